package apigw

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/eventshop/eventshop/internal/auth"
	"github.com/eventshop/eventshop/internal/rest"
)

func TestGroups(t *testing.T) {
	for in, want := range map[string][]string{
		"[admin]":         {"admin"},
		"[admin editors]": {"admin", "editors"},
		"[admin,x]":       {"admin,x"}, // one group whose name holds a comma: never "admin"
		"[x,admin]":       {"x,admin"},
		"[editors admin]": {"editors", "admin"},
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

// What the authorizer passes for tokens the API cannot use is a clear 401;
// a group whose name holds a comma never makes an admin.
func TestTokensTheAPICannotUse(t *testing.T) {
	mux := http.NewServeMux()
	rest.Register(mux, []rest.Route{
		{Method: "GET", Path: "/me", Access: auth.Authenticated, Handler: func(w http.ResponseWriter, r *http.Request) error { w.WriteHeader(204); return nil }},
		{Method: "GET", Path: "/admin", Access: auth.Admin, Handler: func(w http.ResponseWriter, r *http.Request) error { w.WriteHeader(204); return nil }},
	}, slog.New(slog.DiscardHandler), nil)
	proxy := httpadapter.NewV2(Middleware(mux))
	call := func(path string, claims map[string]string) awsevents.APIGatewayV2HTTPResponse {
		t.Helper()
		res, err := proxy.ProxyWithContext(t.Context(), awsevents.APIGatewayV2HTTPRequest{
			RawPath: path,
			RequestContext: awsevents.APIGatewayV2HTTPRequestContext{
				HTTP:       awsevents.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: path},
				Authorizer: &awsevents.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &awsevents.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims}},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	access := map[string]string{"sub": "s1", "client_id": "abc", "username": "alice", "token_use": "access", "scope": "aws.cognito.signin.user.admin"}
	if res := call("/me", access); res.StatusCode != 401 || !strings.Contains(res.Body, "ID token") || !strings.Contains(res.Headers["Www-Authenticate"], "invalid_token") {
		t.Fatalf("an access token → %d %s %v", res.StatusCode, res.Body, res.Headers)
	}
	if res := call("/me", map[string]string{"sub": "s1"}); res.StatusCode != 401 {
		t.Fatalf("a token without cognito:username → %d %s", res.StatusCode, res.Body)
	}
	comma := map[string]string{"sub": "s1", "cognito:username": "mallory", "cognito:groups": "[admin,x]"}
	if res := call("/admin", comma); res.StatusCode != 403 {
		t.Fatalf("group \"admin,x\" → %d, want 403", res.StatusCode)
	}
	if res := call("/admin", map[string]string{"sub": "s1", "cognito:username": "root", "cognito:groups": "[editors admin]"}); res.StatusCode != 204 {
		t.Fatalf("an admin → %d %s", res.StatusCode, res.Body)
	}
}
