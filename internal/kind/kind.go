// Package kind classifies the outcomes a use case can end with (not found,
// conflict, invalid input...), so that domain errors say what went wrong
// without knowing about HTTP, and one function of package rest maps every kind
// to a status.
package kind

import (
	"errors"
	"fmt"
)

// Kind is the class of an outcome.
type Kind int

// The kinds of outcome. Unknown is anything that is not a declared outcome: a
// fault, answered with a generic 500.
const (
	Unknown          Kind = iota
	Invalid               // the request is malformed or a field is invalid
	Unauthenticated       // no valid credentials
	InvalidToken          // credentials that failed verification
	Forbidden             // the caller may not do this
	NotFound              // the resource does not exist
	Conflict              // the resource changed or exists; read again and retry
	TooLarge              // the request is larger than accepted
	UnsupportedMedia      // the request body is not of a type the API reads
	Unprocessable         // well formed, but cannot be done in the resource's state
	Timeout               // the request did not arrive in time
	Unavailable           // a dependency is overloaded; retry shortly
)

var names = [...]string{"unknown", "invalid", "unauthenticated", "invalid token", "forbidden", "not found", "conflict", "too large", "unsupported media type", "unprocessable", "timeout", "unavailable"}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(names) {
		return fmt.Sprintf("Kind(%d)", int(k))
	}
	return names[k]
}

// Error is an outcome of a kind with a message a client may read. Sentinels
// are *Error values; typed errors join in by having a Kind method.
type Error struct {
	kind Kind
	msg  string
}

// New returns an outcome of kind k with msg.
func New(k Kind, msg string) *Error { return &Error{kind: k, msg: msg} }

func (e *Error) Error() string { return e.msg }

// Kind returns the outcome's kind.
func (e *Error) Kind() Kind { return e.kind }

// Failure is an error that knows its kind; its message is safe to show a client.
type Failure interface {
	error
	Kind() Kind
}

// Of returns the outermost outcome in err's chain and its kind, or (nil,
// Unknown) when err declares none.
func Of(err error) (Failure, Kind) {
	var o Failure
	if errors.As(err, &o) {
		return o, o.Kind()
	}
	return nil, Unknown
}
