// Package rest holds what the services' HTTP adapters share: strict JSON request
// decoding, JSON responses, RFC 9457 problem responses and request middleware.
package rest

import (
	"context"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"reflect"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventshop/eventshop/internal/auth"
	"github.com/eventshop/eventshop/internal/kind"
	"github.com/eventshop/eventshop/internal/validation"
)

// Items is a list response of the local shop's admin and console APIs.
type Items[T any] struct {
	Items []T `json:"items"`
}

// MaxBody is the largest request body accepted.
const MaxBody = 1 << 20

// Problem is an RFC 9457 problem detail.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

var errTooLarge = kind.New(kind.TooLarge, "request body is larger than 1 MiB")

// decodeOptions make decoding strict: member names match exactly, unknown
// members are refused, and null is refused where a value is expected.
var decodeOptions = json.JoinOptions(json.RejectUnknownMembers(true), json.WithUnmarshalers(refuseNull))

// rawType is the one type that may hold null: a field kept raw to be checked
// by the handler, or ignored.
var rawType = reflect.TypeFor[jsontext.Value]()

var refuseNull = json.UnmarshalFromFunc(func(dec *jsontext.Decoder, v any) error {
	if dec.PeekKind() == 'n' && reflect.TypeOf(v).Elem() != rawType {
		return errNull
	}
	return errors.ErrUnsupported // decode as usual
})

var errNull = errors.New("must not be null")

// Decode reads exactly one JSON value from r's body into dst, strictly: member
// names match exactly, unknown members, duplicate members, null values, wrong
// types, trailing data and bodies over MaxBody are outcomes that Fail answers
// with 400 or 413.
func Decode(w http.ResponseWriter, r *http.Request, dst any) error {
	if err := requireJSON(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	if err := json.UnmarshalRead(http.MaxBytesReader(w, r.Body, MaxBody), dst, decodeOptions); err != nil {
		return decodeError(err)
	}
	return nil
}

// ReadBody reads r's whole body, at most MaxBody of it; its errors are
// outcomes as Decode's are.
func ReadBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		return nil, decodeError(err)
	}
	return b, nil
}

// requireJSON refuses a body that does not say it is JSON: a form or plain
// text that happens to parse is not what the client meant to send.
func requireJSON(contentType string) error {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/json" {
		return kind.New(kind.UnsupportedMedia, "request body must be sent as Content-Type: application/json")
	}
	return nil
}

func decodeError(err error) error {
	var (
		tooBig *http.MaxBytesError
		sem    *json.SemanticError
		syn    *jsontext.SyntacticError
	)
	switch {
	case errors.As(err, &tooBig):
		return errTooLarge
	case errors.Is(err, os.ErrDeadlineExceeded):
		return kind.New(kind.Timeout, "request body did not arrive in time")
	case errors.As(err, &syn):
		if errors.Is(syn.Err, jsontext.ErrDuplicateName) {
			return validation.Field(fieldName(syn.JSONPointer), "appears more than once")
		}
		if errors.Is(err, io.ErrUnexpectedEOF) && syn.ByteOffset == 0 {
			return kind.New(kind.Invalid, "request body is empty; send a JSON object")
		}
		return kind.New(kind.Invalid, fmt.Sprintf("request body is not valid JSON: %v at byte %d", syn.Err, syn.ByteOffset))
	case errors.As(err, &sem):
		field := fieldName(sem.JSONPointer)
		var verr *validation.Error
		switch {
		case errors.Is(sem.Err, json.ErrUnknownName):
			return validation.Field(field, "is not a known field")
		case errors.As(sem.Err, &verr):
			return verr
		case field == "" && errors.Is(sem.Err, errNull):
			return kind.New(kind.Invalid, "request body must be a JSON object, not null")
		case errors.Is(sem.Err, errNull):
			return validation.Field(field, "must not be null; leave the field out instead")
		case field == "":
			return kind.New(kind.Invalid, "request body must be a JSON object")
		case sem.GoType != nil && sem.Err == nil:
			return validation.Field(field, "must be a JSON %s", jsonKind(sem.GoType))
		case sem.Err != nil:
			return validation.Field(field, "%v", sem.Err)
		}
		return validation.Field(field, "is not valid")
	default:
		return kind.New(kind.Invalid, "request body could not be read")
	}
}

// fieldName turns a JSON pointer (/items/0/quantity) into the field names
// validation errors use (items[0].quantity).
func fieldName(pointer jsontext.Pointer) string {
	var b strings.Builder
	for tok := range pointer.Tokens() {
		if tok != "" && strings.Trim(tok, "0123456789") == "" {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Bool:
		return "boolean"
	default:
		return "number"
	}
}

// JSON writes v as a JSON response with status, ending in a newline. v is
// encoded before anything is written, so that a failure to encode it can
// still be answered with a 500.
func JSON(w http.ResponseWriter, status int, v any) error {
	b, err := Encode(v)
	if err != nil {
		return err
	}
	Encoded(w, status, b)
	return nil
}

// Encode encodes v as JSON would answer it: encoding/json's output and a
// newline.
func Encode(v any) ([]byte, error) {
	b, err := stdjson.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode response: %w", err)
	}
	return append(b, '\n'), nil
}

// Encoded writes a response whose body b a call of Encode made.
func Encoded(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// WriteProblem writes a problem+json response.
func WriteProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = stdjson.NewEncoder(w).Encode(Problem{
		Type:   "about:blank",
		Title:  http.StatusText(status),
		Status: status,
		Detail: detail,
	})
}

// statuses maps each kind of outcome to the status that answers it.
var statuses = map[kind.Kind]int{
	kind.Invalid:          http.StatusBadRequest,
	kind.Unauthenticated:  http.StatusUnauthorized,
	kind.InvalidToken:     http.StatusUnauthorized,
	kind.Forbidden:        http.StatusForbidden,
	kind.NotFound:         http.StatusNotFound,
	kind.Conflict:         http.StatusConflict,
	kind.TooLarge:         http.StatusRequestEntityTooLarge,
	kind.UnsupportedMedia: http.StatusUnsupportedMediaType,
	kind.Unprocessable:    http.StatusUnprocessableEntity,
	kind.Timeout:          http.StatusRequestTimeout,
	kind.Unavailable:      http.StatusServiceUnavailable,
}

// StatusClientClosedRequest answers a request its client abandoned (Fail).
const StatusClientClosedRequest = 499

// Fail is the one place that answers an error: a declared outcome (package
// kind) gets its status and its own message; anything else is logged and
// answered with a generic 500, so that no internal detail reaches the client.
//
// A request its client abandoned (its context canceled, which a handler that
// waits, such as a read with Prefer: wait, returns) is no failure of the
// shop's: it is logged at info and its status is 499, nginx's "client
// closed request", with no body: no one reads it but the request's log and
// metrics.
func Fail(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		log.InfoContext(r.Context(), "request abandoned by its client", "method", r.Method, "path", r.URL.Path)
		w.WriteHeader(StatusClientClosedRequest)
		return
	}
	o, k := kind.Of(err)
	status, ok := statuses[k]
	if !ok {
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		WriteProblem(w, http.StatusInternalServerError, "internal error")
		return
	}
	switch k {
	case kind.Unavailable:
		w.Header().Set("Retry-After", "1")
	case kind.Unauthenticated:
		w.Header().Set("WWW-Authenticate", `Bearer realm="eventshop"`)
	case kind.InvalidToken:
		w.Header().Set("WWW-Authenticate", `Bearer realm="eventshop", error="invalid_token"`)
	}
	WriteProblem(w, status, o.Error())
}

// ProblemsFor wraps mux so that requests no route matches (404) or whose
// method no route allows (405, with its Allow header) are answered with
// problem+json too.
func ProblemsFor(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pattern := mux.Handler(r)
		if pattern == "" {
			mux.ServeHTTP(&unmatched{ResponseWriter: w}, r)
			return
		}
		nameRoute(w, r, pattern[strings.IndexByte(pattern, ' ')+1:])
		mux.ServeHTTP(w, r)
	})
}

// nameRoute gives the request's span and its duration metric the route
// matched, "GET /product/{id}", not the path with its id.
func nameRoute(w http.ResponseWriter, r *http.Request, route string) {
	if rec := recorderOf(w); rec != nil {
		rec.route = route
	}
	if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
		span.SetName(r.Method + " " + route)
		span.SetAttributes(semconv.HTTPRoute(route))
	}
}

// unmatched turns the mux's plain-text error into a problem response.
type unmatched struct {
	http.ResponseWriter
	wrote bool
}

func (u *unmatched) WriteHeader(code int) {
	if u.wrote {
		return
	}
	u.wrote = true
	detail := "no such resource"
	if code == http.StatusMethodNotAllowed {
		detail = "method not allowed; allowed: " + u.Header().Get("Allow")
	}
	WriteProblem(u.ResponseWriter, code, detail)
}

func (u *unmatched) Write(b []byte) (int, error) {
	if !u.wrote {
		u.WriteHeader(http.StatusOK)
	}
	return len(b), nil
}

// Route is one method and path of a service's API, in the pattern syntax that
// http.ServeMux and API Gateway share ("/product/{id}"), and the access it
// demands; on AWS every route but the public ones sits behind the JWT
// authorizer. An Idempotent route honours an Idempotency-Key header.
type Route struct {
	Method     string
	Path       string
	Access     auth.Access
	Idempotent bool
	Handler    HandlerFunc
}

// Idempotency makes a handler honour the Idempotency-Key header.
type Idempotency interface {
	Wrap(HandlerFunc) HandlerFunc
}

// HandlerFunc serves a request and returns what went wrong, for Fail to
// answer; it writes nothing when it returns an error.
type HandlerFunc func(http.ResponseWriter, *http.Request) error

// Register adds routes to mux, each behind the check of its access, with its
// errors answered by Fail; idem guards the Idempotent routes (it may be nil
// only when there are none).
func Register(mux *http.ServeMux, routes []Route, log *slog.Logger, idem Idempotency) {
	for _, rt := range routes {
		h := rt.Handler
		if rt.Idempotent {
			if idem == nil {
				panic(fmt.Sprintf("route %s %s is idempotent, but no idempotency store was given", rt.Method, rt.Path))
			}
			h = idem.Wrap(h)
		}
		mux.HandleFunc(rt.Method+" "+rt.Path, func(w http.ResponseWriter, r *http.Request) {
			err := auth.Check(r.Context(), rt.Access)
			if err == nil {
				err = h(w, r)
			}
			if err != nil {
				Fail(w, r, log, err)
			}
		})
	}
}
