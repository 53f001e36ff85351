package apigw

import (
	"context"
	"net/http"
	"slices"
	"testing"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/eventshop/eventshop/internal/auth"
)

func TestGroups(t *testing.T) {
	for in, want := range map[string][]string{
		"[admin]":         {"admin"},
		"[admin editors]": {"admin", "editors"},
		"admin,editors":   {"admin", "editors"},
		"":                nil,
		"[]":              nil,
	} {
		if got := Groups(in); !slices.Equal(got, want) {
			t.Errorf("Groups(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMiddlewareReadsAuthorizerClaims(t *testing.T) {
	event := awsevents.APIGatewayV2HTTPRequest{
		RawPath: "/basket/alice",
		RequestContext: awsevents.APIGatewayV2HTTPRequestContext{
			HTTP: awsevents.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/basket/alice"},
			Authorizer: &awsevents.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &awsevents.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{
					"sub": "abc", "cognito:username": "alice", "cognito:groups": "[admin]",
				}},
			},
		},
	}
	var (
		got auth.Claims
		err error
	)
	// Through the same API proxy the Lambda functions use.
	proxy := httpadapter.NewV2(Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, err = auth.Caller(r.Context())
		w.WriteHeader(http.StatusNoContent)
	})))
	if _, perr := proxy.ProxyWithContext(context.Background(), event); perr != nil {
		t.Fatal(perr)
	}
	if err != nil || got.UserName != "alice" || got.Subject != "abc" || !got.IsAdmin() {
		t.Fatalf("caller = %+v, %v", got, err)
	}
	// A public route: no authorizer, no caller.
	event.RequestContext.Authorizer = nil
	if _, perr := proxy.ProxyWithContext(context.Background(), event); perr != nil {
		t.Fatal(perr)
	}
	if err != auth.ErrUnauthenticated {
		t.Fatalf("without an authorizer: %v", err)
	}
}
