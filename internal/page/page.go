// Package page carries pagination requests and opaque continuation tokens, shaped
// after DynamoDB's LastEvaluatedKey: a store encodes the key it stopped at and
// gets it back on the next call.
package page

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strconv"

	"github.com/eventshop/eventshop/internal/validation"
)

// Default and Max bound the number of items in one page.
const (
	Default = 20
	Max     = 100
)

// Request asks for one page: at most Limit items after the position Token names.
type Request struct {
	Limit int
	Token string
}

// Of is one page of items and the token for the next one ("" on the last page).
type Of[T any] struct {
	Items     []T    `json:"items"`
	NextToken string `json:"nextToken,omitempty"`
}

// FromQuery reads limit and nextToken from a URL query.
func FromQuery(q url.Values) (Request, error) {
	r := Request{Limit: Default, Token: q.Get("nextToken")}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > Max {
			return Request{}, validation.Field("limit", "must be an integer from 1 to %d", Max)
		}
		r.Limit = n
	}
	if len(r.Token) > 1024 {
		return Request{}, validation.Field("nextToken", "is not a valid page token")
	}
	return r, nil
}

// Encode turns a store's position into an opaque token.
func Encode(key any) string {
	b, err := json.Marshal(key)
	if err != nil {
		panic(err) // keys are plain structs of strings and numbers
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Decode reads a token made by Encode into key; a token that does not decode
// is the client's error.
func Decode(token string, key any) error {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err == nil {
		err = json.Unmarshal(b, key)
	}
	if err != nil {
		return validation.Field("nextToken", "is not a valid page token")
	}
	return nil
}

// Map returns p with f applied to each of its items (a nil list stays nil).
func Map[A, B any](p Of[A], f func(A) B) Of[B] {
	out := Of[B]{NextToken: p.NextToken}
	if p.Items == nil {
		return out
	}
	out.Items = make([]B, len(p.Items))
	for i, it := range p.Items {
		out.Items[i] = f(it)
	}
	return out
}
