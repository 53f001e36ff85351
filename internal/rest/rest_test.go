package rest

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/eventshop/eventshop/internal/validation"
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
	}{
		{"ok", `{"name":"a","count":2}`, 0, ""},
		{"unknown field", `{"name":"a","extra":1}`, 400, "extra"},
		{"wrong type", `{"count":"two"}`, 400, "count"},
		{"nested wrong type", `{"tags":[{"key":5}]}`, 400, "tags.key"},
		{"not an object", `[1,2]`, 400, ""},
		{"malformed", `{"name":`, 400, ""},
		{"trailing data", `{"name":"a"} {"name":"b"}`, 400, ""},
		{"empty", ``, 400, ""},
		{"too large", `{"name":"` + strings.Repeat("x", MaxBody) + `"}`, 413, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequest("POST", "/", strings.NewReader(tt.body))
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
			Fail(rec, r, discard(), err)
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
	h := Middleware(discard(), http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
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

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
