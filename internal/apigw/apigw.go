// Package apigw reads the caller on AWS: API Gateway's JWT authorizer has
// verified the token and passes its claims in the request context of the
// HTTP API event, which the API proxy keeps in the request's context.
package apigw

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/eventshop/eventshop/internal/auth"
	"github.com/eventshop/eventshop/internal/rest"
)

// Handler builds the handler an API function serves behind the API proxy:
// the routes register adds, with the caller taken from API Gateway's JWT
// authorizer (Middleware), problem+json for unmatched routes, correlation
// ids and request logs. A span per request continues the caller's
// traceparent, as locally; no request metrics: API Gateway's own count and
// time every request.
func Handler(log *slog.Logger, register func(*http.ServeMux)) http.Handler {
	mux := http.NewServeMux()
	register(mux)
	return rest.Middleware(log, otel.GetTracerProvider(), noop.NewMeterProvider(), Middleware(rest.ProblemsFor(mux)))
}

// Middleware puts the authorizer's claims where handlers read them. Routes
// without an authorizer (the public ones) carry none. The authorizer lets a
// Cognito access token through too (it checks client_id where an ID token
// has aud), but an access token does not name the user the way the API
// reads it: it is answered with a 401 that says to send the ID token.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context())
		if ok && rc.Authorizer != nil && rc.Authorizer.JWT != nil {
			c := rc.Authorizer.JWT.Claims
			switch {
			case c["token_use"] == "access" || (c["cognito:username"] == "" && c["client_id"] != ""):
				r = r.WithContext(auth.WithTokenError(r.Context(), auth.ErrAccessToken))
			case c["cognito:username"] == "" || c["sub"] == "":
				r = r.WithContext(auth.WithInvalidToken(r.Context()))
			default:
				r = r.WithContext(auth.WithClaims(r.Context(), auth.Claims{
					Subject:  c["sub"],
					UserName: c["cognito:username"],
					Groups:   Groups(c["cognito:groups"]),
				}))
			}
		}
		next.ServeHTTP(w, r)
	})
}

// Groups reads cognito:groups as the HTTP API passes a list claim: its
// elements between brackets, separated by spaces ("[admin editors]").
// Cognito group names hold no white space, so the split is exact; a comma is
// part of a name, so a group named "admin,x" is never read as "admin".
func Groups(s string) []string {
	s = strings.TrimSpace(s)
	if inner, ok := strings.CutPrefix(s, "["); ok {
		s = strings.TrimSuffix(inner, "]")
	}
	return strings.Fields(s)
}
