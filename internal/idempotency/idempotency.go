// Package idempotency lets a client retry a POST that creates something
// without creating it twice, as the IETF httpapi Idempotency-Key draft
// describes: under the same key, the same request gets the first response
// again; a different request is refused; a request still running is a
// conflict. Records are kept for Retention.
package idempotency

import (
	"context"
	"errors"
	"time"

	"github.com/eventshop/eventshop/internal/kind"
)

// Header is the request header that carries the key.
const Header = "Idempotency-Key"

// ReplayedHeader marks a response that is a replay of the first one.
const ReplayedHeader = "Idempotent-Replayed"

// Retention is how long a key is remembered.
const Retention = 24 * time.Hour

// Lease is how long a request may run under its key before a retry may take
// the key over: longer than any request takes, so that only a request whose
// process died leaves its key behind that long.
const Lease = time.Minute

// Outcomes a client sees.
var (
	ErrInProgress = kind.New(kind.Conflict, "a request with this Idempotency-Key is still in progress; retry it a little later")
	ErrMismatch   = kind.New(kind.Unprocessable, "this Idempotency-Key was used with a different request; send the first request again, or use a new key")
	ErrBadKey     = kind.New(kind.Invalid, "Idempotency-Key must be 1 to 255 visible ASCII characters, sent once")
)

// ErrExists is what Store.Claim returns, beside the record, when a live
// record holds the key.
var ErrExists = errors.New("idempotency key is taken")

// Record is a request made under a key, and once it completed, its response.
type Record struct {
	Scope       string    // whose request to which route: keys of different callers or routes never meet
	Key         string    // the client's Idempotency-Key
	Fingerprint string    // a hash of the request's body
	Started     time.Time // when the request that holds the key began; it also tells claims apart
	Expires     time.Time // when the record may be forgotten
	Done        bool      // the response below is complete
	Status      int
	ContentType string
	Location    string
	Body        []byte
}

// Store keeps records, one per (Scope, Key).
type Store interface {
	// Claim stores r as an unfinished request, unless a record of r.Scope and
	// r.Key exists that has not expired and is not abandoned (unfinished and
	// started before staleBefore); then it returns that record and ErrExists.
	Claim(ctx context.Context, r Record, staleBefore time.Time) (Record, error)
	// Complete stores the response of the claim r (the one that started at
	// r.Started); ErrExists when another claim took the key over.
	Complete(ctx context.Context, r Record) error
	// Release deletes the unfinished claim r, so that a retry runs anew.
	Release(ctx context.Context, r Record) error
}

// ValidKey reports whether key is 1 to 255 visible ASCII characters.
func ValidKey(key string) bool {
	if key == "" || len(key) > 255 {
		return false
	}
	for i := range len(key) {
		if key[i] < 0x21 || key[i] > 0x7e {
			return false
		}
	}
	return true
}
