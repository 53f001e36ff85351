// Package resttest drives the services' HTTP handlers in tests: requests as a
// given caller, and the fuzzing harness every request decoder runs under.
package resttest

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/eventshop/eventshop/internal/auth"
	"github.com/eventshop/eventshop/internal/rest"
)

// Handler wraps mux as the runtimes do, with every request made by caller.
func Handler(mux *http.ServeMux, caller auth.Claims) http.Handler {
	routes := rest.ProblemsFor(mux)
	return rest.Middleware(slog.New(slog.DiscardHandler), noop.NewTracerProvider(), metricnoop.NewMeterProvider(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		routes.ServeHTTP(w, r.WithContext(auth.WithClaims(r.Context(), caller)))
	}))
}

// CheckResponse fails t when a response is a server error, or a client error
// that is not a well-formed problem.
func CheckResponse(t *testing.T, rec *httptest.ResponseRecorder, input string) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("input %q → %d %s", input, rec.Code, rec.Body)
	}
	if rec.Code >= 400 {
		var p rest.Problem
		if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
			t.Fatalf("input %q → %d with Content-Type %q", input, rec.Code, ct)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != rec.Code {
			t.Fatalf("input %q → %d with problem %s", input, rec.Code, rec.Body)
		}
	}
}

// FuzzBody sends each fuzzed body to method path on h: no input may cause a
// 5xx or a panic (a panic is a 500 through the middleware, and fails too).
func FuzzBody(f *testing.F, h http.Handler, method, path string, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(method, path, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(rec, req)
		CheckResponse(t, rec, string(body))
	})
}
