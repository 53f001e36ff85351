package auth

import (
	"context"
	"errors"
	"testing"
)

func TestRules(t *testing.T) {
	none := context.Background()
	invalid := WithInvalidToken(none)
	alice := WithClaims(none, Claims{Subject: "s1", UserName: "alice"})
	admin := WithClaims(none, Claims{Subject: "s2", UserName: "root", Groups: []string{"users", AdminGroup}})
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"public, no token", Check(none, Public), nil},
		{"public, invalid token", Check(invalid, Public), nil},
		{"authenticated, no token", Check(none, Authenticated), ErrUnauthenticated},
		{"authenticated, invalid token", Check(invalid, Authenticated), ErrInvalidToken},
		{"authenticated, user", Check(alice, Authenticated), nil},
		{"admin, user", Check(alice, Admin), ErrForbidden},
		{"admin, admin", Check(admin, Admin), nil},
		{"read own", CanRead(alice, "alice"), nil},
		{"read other's", CanRead(alice, "bob"), ErrForbidden},
		{"admin reads any", CanRead(admin, "bob"), nil},
		{"write own", CanWrite(alice, "alice"), nil},
		{"write other's", CanWrite(alice, "bob"), ErrForbidden},
		{"admin writes other's", CanWrite(admin, "bob"), ErrForbidden},
		{"no token writes", CanWrite(none, "bob"), ErrUnauthenticated},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) || (tt.want == nil && tt.err != nil) {
			t.Errorf("%s: %v, want %v", tt.name, tt.err, tt.want)
		}
	}
	if u, err := OwnUserName(alice, ""); err != nil || u != "alice" {
		t.Errorf("OwnUserName(empty) = %q, %v; want the caller", u, err)
	}
	if _, err := OwnUserName(alice, "bob"); !errors.Is(err, ErrForbidden) {
		t.Errorf("OwnUserName(bob) as alice = %v", err)
	}
}
