// Package apigw reads the caller on AWS: API Gateway's JWT authorizer has
// verified the token and passes its claims in the request context of the
// HTTP API event, which the API proxy keeps in the request's context.
package apigw

import (
	"net/http"
	"strings"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/eventshop/eventshop/internal/auth"
)

// Middleware puts the authorizer's claims where handlers read them. Routes
// without an authorizer (the public ones) carry none.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context())
		if ok && rc.Authorizer != nil && rc.Authorizer.JWT != nil {
			c := rc.Authorizer.JWT.Claims
			r = r.WithContext(auth.WithClaims(r.Context(), auth.Claims{
				Subject:  c["sub"],
				UserName: c["cognito:username"],
				Groups:   Groups(c["cognito:groups"]),
			}))
		}
		next.ServeHTTP(w, r)
	})
}

// Groups reads cognito:groups as the HTTP API passes it: a JSON-less list
// such as "[admin editors]", or a plain comma-separated one.
func Groups(s string) []string {
	s = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "["), "]")
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
}
