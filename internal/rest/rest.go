// Package rest holds what the services' HTTP adapters share: strict JSON request
// decoding, JSON responses, RFC 9457 problem responses and request middleware.
package rest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/eventshop/eventshop/internal/auth"
	"github.com/eventshop/eventshop/internal/correlation"
	"github.com/eventshop/eventshop/internal/validation"
)

// MaxBody is the largest request body accepted.
const MaxBody = 1 << 20

// Problem is an RFC 9457 problem detail.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

var (
	errTooLarge  = errors.New("request body is larger than 1 MiB")
	errMalformed = errors.New("request body is not valid JSON")
)

// Decode reads exactly one JSON object from r's body into dst: unknown fields,
// trailing data, wrong types and bodies over MaxBody are errors that Fail
// answers with 400 or 413.
func Decode(w http.ResponseWriter, r *http.Request, dst any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errTooLarge
		}
		return errMalformed
	}
	return nil
}

func decodeError(err error) error {
	var (
		tooBig  *http.MaxBytesError
		typeErr *json.UnmarshalTypeError
		verr    *validation.Error
	)
	switch {
	case errors.As(err, &tooBig):
		return errTooLarge
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return fmt.Errorf("%w: expected a JSON object", errMalformed)
		}
		return validation.Field(field, "must be a JSON %s", jsonKind(typeErr.Type.Kind().String()))
	case errors.As(err, &verr):
		return verr
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return validation.Field(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "is not a known field")
	default:
		return errMalformed
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "slice", "array":
		return "array"
	case "struct", "map":
		return "object"
	case "bool":
		return "boolean"
	default:
		return "number"
	}
}

// JSON writes v as a JSON response with status.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteProblem writes a problem+json response.
func WriteProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(Problem{
		Type:   "about:blank",
		Title:  http.StatusText(status),
		Status: status,
		Detail: detail,
	})
}

// Fail answers the errors every service shares: a missing or invalid token
// (401), a forbidden action (403), invalid input (400), oversized bodies (413)
// and malformed JSON (400). Anything else is logged and answered
// with a generic 500, so that no internal detail reaches the client.
func Fail(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var verr *validation.Error
	switch {
	case errors.Is(err, auth.ErrUnauthenticated):
		w.Header().Set("WWW-Authenticate", `Bearer realm="eventshop"`)
		WriteProblem(w, http.StatusUnauthorized, err.Error())
	case errors.Is(err, auth.ErrInvalidToken):
		w.Header().Set("WWW-Authenticate", `Bearer realm="eventshop", error="invalid_token"`)
		WriteProblem(w, http.StatusUnauthorized, err.Error())
	case errors.Is(err, auth.ErrForbidden):
		WriteProblem(w, http.StatusForbidden, err.Error())
	case errors.As(err, &verr):
		WriteProblem(w, http.StatusBadRequest, verr.Error())
	case errors.Is(err, errTooLarge):
		WriteProblem(w, http.StatusRequestEntityTooLarge, errTooLarge.Error())
	case errors.Is(err, errMalformed):
		WriteProblem(w, http.StatusBadRequest, err.Error())
	default:
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		WriteProblem(w, http.StatusInternalServerError, "internal error")
	}
}

// Middleware gives each request a correlation id (kept from the request header
// when well formed), recovers panics into a 500 and logs one line per request.
func Middleware(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := correlation.Sanitize(r.Header.Get(correlation.Header))
		ctx := correlation.With(r.Context(), id)
		w.Header().Set(correlation.Header, id)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.ErrorContext(ctx, "panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p))
				if !rec.wrote {
					WriteProblem(rec, http.StatusInternalServerError, "internal error")
				}
			}
			log.InfoContext(ctx, "request", "method", r.Method, "path", r.URL.Path, "status", rec.status)
		}()
		next.ServeHTTP(rec, r.WithContext(ctx))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Routes wraps mux so that requests no route matches (404) or whose method no
// route allows (405, with its Allow header) are answered with problem+json too.
func Routes(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern == "" {
			mux.ServeHTTP(&unmatched{ResponseWriter: w}, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
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
	u.Header().Del("X-Content-Type-Options")
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
// demands; on AWS every route but the public ones sits behind the JWT authorizer.
type Route struct {
	Method  string
	Path    string
	Access  auth.Access
	Handler http.HandlerFunc
}

// Register adds routes to mux, each behind the check of its access.
func Register(mux *http.ServeMux, routes []Route, log *slog.Logger) {
	for _, r := range routes {
		mux.HandleFunc(r.Method+" "+r.Path, func(w http.ResponseWriter, req *http.Request) {
			if err := auth.Check(req.Context(), r.Access); err != nil {
				Fail(w, req, log, err)
				return
			}
			r.Handler(w, req)
		})
	}
}
