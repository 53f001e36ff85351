// Package auth carries the verified caller in a request's context and decides
// who may do what. On AWS the claims come from API Gateway's JWT authorizer; on
// one machine the server verifies tokens itself and puts the same claims in the
// same place, so handlers never know which runtime they are on.
package auth

import (
	"context"
	"slices"

	"github.com/eventshop/eventshop/internal/kind"
)

// AdminGroup is the group whose members may change the catalog and read
// everyone's baskets and orders.
const AdminGroup = "admin"

// Errors of authorization; HTTP adapters answer them with 401 and 403.
var (
	ErrUnauthenticated = kind.New(kind.Unauthenticated, "a valid bearer token is required")
	ErrInvalidToken    = kind.New(kind.InvalidToken, "the bearer token is not valid")
	ErrForbidden       = kind.New(kind.Forbidden, "you may not do this")
)

// Claims are the verified claims of the caller's token, as Cognito names them.
type Claims struct {
	Subject  string   // sub
	UserName string   // cognito:username
	Groups   []string // cognito:groups
}

// IsAdmin reports whether the caller is in AdminGroup.
func (c Claims) IsAdmin() bool { return slices.Contains(c.Groups, AdminGroup) }

type claimsKey struct{}

type invalidKey struct{}

// WithClaims returns ctx carrying the caller's verified claims.
func WithClaims(ctx context.Context, c Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// WithInvalidToken marks ctx as carrying a token that failed verification.
func WithInvalidToken(ctx context.Context) context.Context {
	return WithTokenError(ctx, ErrInvalidToken)
}

// ErrAccessToken reports a Cognito access token where the API wants the ID
// token: it carries no cognito:username, so it cannot say who the caller is.
var ErrAccessToken = kind.New(kind.InvalidToken, "this is an access token; send the ID token of the same sign-in as the bearer token")

// WithTokenError marks ctx as carrying a token that cannot be used, for err
// (an outcome of kind InvalidToken, such as ErrAccessToken).
func WithTokenError(ctx context.Context, err error) context.Context {
	return context.WithValue(ctx, invalidKey{}, err)
}

// Caller returns the verified caller, or ErrUnauthenticated (no token) or
// the reason the token cannot be used (ErrInvalidToken, ErrAccessToken).
func Caller(ctx context.Context) (Claims, error) {
	if c, ok := ctx.Value(claimsKey{}).(Claims); ok && c.UserName != "" {
		return c, nil
	}
	if err, _ := ctx.Value(invalidKey{}).(error); err != nil {
		return Claims{}, err
	}
	return Claims{}, ErrUnauthenticated
}

// Access is what a route demands of its caller.
type Access int

// Levels of access.
const (
	Public        Access = iota // anyone, with or without a token
	Authenticated               // any caller with a valid token
	Admin                       // a caller in AdminGroup
)

// Check returns nil when ctx's caller has access a.
func Check(ctx context.Context, a Access) error {
	if a == Public {
		return nil
	}
	c, err := Caller(ctx)
	if err != nil {
		return err
	}
	if a == Admin && !c.IsAdmin() {
		return ErrForbidden
	}
	return nil
}

// CanRead allows the owner of userName's data, and admins, to read it.
func CanRead(ctx context.Context, userName string) error {
	c, err := Caller(ctx)
	if err != nil {
		return err
	}
	if c.UserName != userName && !c.IsAdmin() {
		return ErrForbidden
	}
	return nil
}

// CanManage allows the owner of userName's data, and admins, to act on it
// (cancel an order), as they may read it.
func CanManage(ctx context.Context, userName string) error { return CanRead(ctx, userName) }

// CanWrite allows only the owner of userName's data to change it.
func CanWrite(ctx context.Context, userName string) error {
	c, err := Caller(ctx)
	if err != nil {
		return err
	}
	if c.UserName != userName {
		return ErrForbidden
	}
	return nil
}

// OwnUserName returns userName, or the caller's own when userName is empty,
// once the caller may write as that user.
func OwnUserName(ctx context.Context, userName string) (string, error) {
	c, err := Caller(ctx)
	if err != nil {
		return "", err
	}
	if userName == "" {
		return c.UserName, nil
	}
	return userName, CanWrite(ctx, userName)
}
