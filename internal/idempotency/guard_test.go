package idempotency_test

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventshop/eventshop/internal/auth"
	"github.com/eventshop/eventshop/internal/idempotency"
	"github.com/eventshop/eventshop/internal/idempotency/sqlite"
	"github.com/eventshop/eventshop/internal/kind"
	"github.com/eventshop/eventshop/internal/rest"
)

// counter is a handler that creates thing number n on each call, or fails as told.
type counter struct {
	n    int
	fail error
	boom bool
}

func (c *counter) handle(w http.ResponseWriter, r *http.Request) error {
	if c.boom {
		panic("boom")
	}
	if c.fail != nil {
		return c.fail
	}
	c.n++
	w.Header().Set("Location", "/thing/"+string(rune('0'+c.n)))
	return rest.JSON(w, http.StatusCreated, map[string]int{"n": c.n})
}

func setup(t *testing.T) (*counter, http.Handler, idempotency.Store) {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "idem.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c := &counter{}
	mux := http.NewServeMux()
	rest.Register(mux, []rest.Route{{Method: "POST", Path: "/thing", Access: auth.Authenticated, Idempotent: true, Handler: c.handle}},
		slog.New(slog.DiscardHandler), idempotency.NewGuard(s, slog.New(slog.DiscardHandler)))
	return c, mux, s
}

func post(h http.Handler, user, key, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "/thing", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if key != "" {
		r.Header.Set(idempotency.Header, key)
	}
	r = r.WithContext(auth.WithClaims(r.Context(), auth.Claims{Subject: "s-" + user, UserName: user}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestReplayAndMismatch(t *testing.T) {
	c, h, _ := setup(t)
	first := post(h, "alice", "k1", `{"a":1}`)
	again := post(h, "alice", "k1", `{"a":1}`)
	if first.Code != 201 || again.Code != 201 || again.Body.String() != first.Body.String() || c.n != 1 {
		t.Fatalf("first %d %s, again %d %s, handler ran %d times", first.Code, first.Body, again.Code, again.Body, c.n)
	}
	if again.Header().Get("Location") != "/thing/1" || again.Header().Get("Content-Type") != "application/json" || again.Header().Get(idempotency.ReplayedHeader) != "true" {
		t.Fatalf("replayed headers %v", again.Header())
	}
	if w := post(h, "alice", "k1", `{"a":2}`); w.Code != 422 || !strings.Contains(w.Body.String(), "different request") || c.n != 1 {
		t.Fatalf("same key, other body: %d %s", w.Code, w.Body)
	}
	if w := post(h, "bob", "k1", `{"a":2}`); w.Code != 201 || c.n != 2 {
		t.Fatalf("another caller's same key: %d %s", w.Code, w.Body)
	}
	for range 2 {
		if w := post(h, "alice", "", `{"a":1}`); w.Code != 201 {
			t.Fatalf("no key: %d", w.Code)
		}
	}
	if c.n != 4 {
		t.Fatalf("without a key every request runs: %d runs, want 4", c.n)
	}
	for _, bad := range []string{"has space", strings.Repeat("k", 256), "tab\tkey", "é"} {
		if w := post(h, "alice", bad, `{}`); w.Code != 400 {
			t.Errorf("key %q: %d, want 400", bad, w.Code)
		}
	}
	for _, good := range []string{strings.Repeat("k", 255), "!", "~", "a-b_c.d:e/f"} {
		if w := post(h, "alice", good, `{}`); w.Code != 201 {
			t.Errorf("key %q: %d, want 201", good, w.Code)
		}
	}
	for _, bad := range []string{"\x20", "\x7f"} {
		if idempotency.ValidKey(bad) {
			t.Errorf("key %q is valid", bad)
		}
	}
}

func TestInProgressIsAConflict(t *testing.T) {
	_, h, s := setup(t)
	// Another request holds the key, and is still within its lease.
	now := time.Now()
	if _, err := s.Claim(t.Context(), idempotency.Record{Scope: "alice POST /thing", Key: "k", Fingerprint: "x", Started: now, Expires: now.Add(time.Hour)}, now.Add(-idempotency.Lease)); err != nil {
		t.Fatal(err)
	}
	if w := post(h, "alice", "k", `{}`); w.Code != 422 {
		t.Fatalf("a running request with another body: %d", w.Code)
	}
	if _, err := s.Claim(t.Context(), idempotency.Record{Scope: "alice POST /thing", Key: "k2", Fingerprint: "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", Started: now, Expires: now.Add(time.Hour)}, now.Add(-idempotency.Lease)); err != nil {
		t.Fatal(err)
	}
	if w := post(h, "alice", "k2", `{}`); w.Code != 409 || !strings.Contains(w.Body.String(), "in progress") {
		t.Fatalf("the same request while it runs: %d %s", w.Code, w.Body)
	}
}

func TestFailuresLeaveTheKeyFree(t *testing.T) {
	c, h, _ := setup(t)
	c.fail = errors.New("disk full")
	if w := post(h, "alice", "k", `{}`); w.Code != 500 {
		t.Fatalf("failing handler: %d", w.Code)
	}
	c.fail = nil
	if w := post(h, "alice", "k", `{}`); w.Code != 201 || c.n != 1 {
		t.Fatalf("retry after a 500: %d, ran %d", w.Code, c.n)
	}

	c.boom = true
	func() {
		defer func() { _ = recover() }()
		post(h, "alice", "k-panic", `{}`)
	}()
	c.boom = false
	if w := post(h, "alice", "k-panic", `{}`); w.Code != 201 {
		t.Fatalf("retry after a panic: %d %s", w.Code, w.Body)
	}

	c.fail = kind.New(kind.Unprocessable, "nothing to do")
	if w := post(h, "alice", "k-4xx", `{}`); w.Code != 422 {
		t.Fatalf("a 4xx: %d", w.Code)
	}
	c.fail = nil
	if w := post(h, "alice", "k-4xx", `{}`); w.Code != 422 || w.Header().Get(idempotency.ReplayedHeader) != "true" {
		t.Fatalf("a 4xx is kept and replayed: %d", w.Code)
	}
}
