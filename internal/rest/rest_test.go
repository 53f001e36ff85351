package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/eventshop/eventshop/internal/auth"
	"github.com/eventshop/eventshop/internal/kind"
	"github.com/eventshop/eventshop/internal/validation"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace/noop"
)

type sample struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
	Tags  []struct {
		Key string `json:"key"`
	} `json:"tags"`
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		status int
		field  string
		ctype  string // "application/json" when empty
	}{
		{"ok", `{"name":"a","count":2}`, 0, "", ""},
		{"ok with charset", `{"name":"a"}`, 0, "", "application/json; charset=utf-8"},
		{"plain text", `{"name":"a"}`, 415, "", "text/plain"},
		{"form", `{"name":"a"}`, 415, "", "application/x-www-form-urlencoded"},
		{"no content type", `{"name":"a"}`, 415, "", "-"},
		{"json-ish type", `{"name":"a"}`, 415, "", "application/jsonx"},
		{"unknown field", `{"name":"a","extra":1}`, 400, "extra", ""},
		{"wrong type", `{"count":"two"}`, 400, "count", ""},
		{"nested wrong type", `{"tags":[{"key":5}]}`, 400, "tags[0].key", ""},
		{"not an object", `[1,2]`, 400, "", ""},
		{"malformed", `{"name":`, 400, "", ""},
		{"trailing data", `{"name":"a"} {"name":"b"}`, 400, "", ""},
		{"empty", ``, 400, "", ""},
		{"too large", `{"name":"` + strings.Repeat("x", MaxBody) + `"}`, 413, "", ""},
		{"key in another case", `{"NAME":"a"}`, 400, "NAME", ""},
		{"duplicate key", `{"name":"a","name":"b"}`, 400, "name", ""},
		{"null body", `null`, 400, "", ""},
		{"null array", `{"tags":null}`, 400, "tags", ""},
		{"null element", `{"tags":[null]}`, 400, "tags[0]", ""},
		{"invalid UTF-8", "{\"name\":\"\xff\"}", 400, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequest("POST", "/", strings.NewReader(tt.body))
			switch tt.ctype {
			case "":
				r.Header.Set("Content-Type", "application/json")
			case "-":
			default:
				r.Header.Set("Content-Type", tt.ctype)
			}
			var v sample
			err := Decode(w, r, &v)
			if tt.status == 0 {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				return
			}
			var verr *validation.Error
			if tt.field != "" && (!errors.As(err, &verr) || verr.Field != tt.field) {
				t.Fatalf("err = %v, want a validation error on %s", err, tt.field)
			}
			rec := httptest.NewRecorder()
			Fail(rec, r, slog.New(slog.DiscardHandler), err)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d (err %v)", rec.Code, tt.status, err)
			}
			var p Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != tt.status || rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("problem = %+v (%v), content type %q", p, err, rec.Header().Get("Content-Type"))
			}
		})
	}
}

func TestMiddlewareRecoversAndKeepsCorrelationID(t *testing.T) {
	h := Middleware(slog.New(slog.DiscardHandler), noop.NewTracerProvider(), metricnoop.NewMeterProvider(), http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Correlation-Id", "abc-123")
	h.ServeHTTP(w, r)
	if w.Code != 500 || strings.Contains(w.Body.String(), "boom") {
		t.Fatalf("panic answered %d %q, want a generic 500", w.Code, w.Body)
	}
	if got := w.Header().Get("X-Correlation-Id"); got != "abc-123" {
		t.Fatalf("correlation id = %q", got)
	}
	r.Header.Set("X-Correlation-Id", "bad id with spaces")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if got := w.Header().Get("X-Correlation-Id"); got == "" || strings.Contains(got, " ") {
		t.Fatalf("malformed correlation id was kept: %q", got)
	}
}

// levels records the level of each log record.
type levels struct{ seen []slog.Level }

func (l *levels) Enabled(context.Context, slog.Level) bool { return true }
func (l *levels) Handle(_ context.Context, r slog.Record) error {
	l.seen = append(l.seen, r.Level)
	return nil
}
func (l *levels) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *levels) WithGroup(string) slog.Handler      { return l }

// A request its client abandoned is answered 499 and logged at info, not as
// the shop's failure; a canceled context the client did not cause is one.
func TestFailOfAnAbandonedRequest(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var logged levels
	rec := httptest.NewRecorder()
	Fail(rec, httptest.NewRequest("GET", "/", nil).WithContext(ctx), slog.New(&logged), fmt.Errorf("await: %w", context.Canceled))
	if rec.Code != StatusClientClosedRequest || len(logged.seen) != 1 || logged.seen[0] != slog.LevelInfo {
		t.Errorf("abandoned request → %d, logged %v; want 499 at info", rec.Code, logged.seen)
	}
	logged = levels{}
	rec = httptest.NewRecorder()
	Fail(rec, httptest.NewRequest("GET", "/", nil), slog.New(&logged), context.Canceled)
	if rec.Code != 500 || len(logged.seen) != 1 || logged.seen[0] != slog.LevelError {
		t.Errorf("canceled work of a live request → %d, logged %v; want 500 at error", rec.Code, logged.seen)
	}
}

func TestFailMapsEveryKindOnce(t *testing.T) {
	tests := []struct {
		err    error
		status int
		detail string
		auth   string
	}{
		{kind.New(kind.Invalid, "bad"), 400, "bad", ""},
		{validation.Field("name", "is required"), 400, "name: is required", ""},
		{auth.ErrUnauthenticated, 401, auth.ErrUnauthenticated.Error(), `Bearer realm="eventshop"`},
		{auth.ErrInvalidToken, 401, auth.ErrInvalidToken.Error(), `Bearer realm="eventshop", error="invalid_token"`},
		{auth.ErrForbidden, 403, auth.ErrForbidden.Error(), ""},
		{fmt.Errorf("get x: %w", kind.New(kind.NotFound, "x not found")), 404, "x not found", ""},
		{kind.New(kind.Conflict, "changed"), 409, "changed", ""},
		{errTooLarge, 413, errTooLarge.Error(), ""},
		{kind.New(kind.UnsupportedMedia, "not json"), 415, "not json", ""},
		{kind.New(kind.Unprocessable, "empty"), 422, "empty", ""},
		{errors.New("disk on fire at /var/db"), 500, "internal error", ""},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		Fail(rec, httptest.NewRequest("GET", "/", nil), slog.New(slog.DiscardHandler), tt.err)
		var p Problem
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		if rec.Code != tt.status || p.Status != tt.status || p.Detail != tt.detail || rec.Header().Get("WWW-Authenticate") != tt.auth {
			t.Errorf("%v → %d %+v (WWW-Authenticate %q); want %d %q %q", tt.err, rec.Code, p, rec.Header().Get("WWW-Authenticate"), tt.status, tt.detail, tt.auth)
		}
	}
	for k := kind.Invalid; k <= kind.Unavailable; k++ {
		if _, ok := statuses[k]; !ok {
			t.Errorf("kind %v has no status", k)
		}
	}
}

func TestJSONEndsWithNewline(t *testing.T) {
	rec := httptest.NewRecorder()
	if err := JSON(rec, 200, map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	if got := rec.Body.String(); got != "{\"a\":1}\n" {
		t.Fatalf("body %q", got)
	}
	if err := JSON(httptest.NewRecorder(), 200, func() {}); err == nil {
		t.Fatal("an unencodable value was written")
	}
}
