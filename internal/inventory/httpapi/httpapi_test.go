package httpapi_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventshop/eventshop/internal/auth"
	"github.com/eventshop/eventshop/internal/inventory/app"
	"github.com/eventshop/eventshop/internal/inventory/httpapi"
	"github.com/eventshop/eventshop/internal/inventory/sqlite"
	"github.com/eventshop/eventshop/internal/rest/resttest"
)

var (
	admin    = auth.Claims{Subject: "s-root", UserName: "root", Groups: []string{auth.AdminGroup}}
	customer = auth.Claims{Subject: "s-alice", UserName: "alice"}
)

// inventory serves the inventory's routes over a SQLite store that has heard
// of product p-1, as each caller.
func inventory(t testing.TB) func(caller auth.Claims) http.Handler {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "inventory.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	a := app.New(store)
	if _, err := a.Announce(context.Background(), app.AnnounceProduct{ProductID: "p-1", Version: 1}); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	httpapi.Register(mux, a, slog.New(slog.DiscardHandler))
	return func(caller auth.Claims) http.Handler { return resttest.Handler(mux, caller) }
}

func serve(t *testing.T, h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resttest.CheckResponse(t, rec, method+" "+path+" "+body)
	return rec
}

// Each route answers each caller as the API document says, and a refusal
// names what was wrong and changes nothing.
func TestStockRoutes(t *testing.T) {
	as := inventory(t)
	steps := []struct {
		name               string
		caller             auth.Claims
		method, path, body string
		status             int
		bodyHas, bodyHasnt string
	}{
		{"untracked stock reads as such", auth.Claims{}, "GET", "/inventory/p-1", "", 200, `"tracked":false`, "reserved"},
		{"a product never announced is not found", auth.Claims{}, "GET", "/inventory/p-9", "", 404, "", ""},
		{"a customer may not set stock", customer, "PUT", "/inventory/p-1", `{"available":5}`, 403, "", ""},
		{"nor read the admin's view", customer, "GET", "/inventory/p-1/admin", "", 403, "", ""},
		{"an admin sets it, and it is tracked", admin, "PUT", "/inventory/p-1", `{"available":5}`, 200, `"available":5`, ""},
		{"anyone reads what is available, nothing more", auth.Claims{}, "GET", "/inventory/p-1", "", 200, `"tracked":true,"available":5`, "version"},
		{"the admin's view has the version", admin, "GET", "/inventory/p-1/admin", "", 200, `"reserved":0`, ""},
		{"a negative stock is refused, naming the field", admin, "PUT", "/inventory/p-1", `{"available":-1}`, 400, "available", ""},
		{"a stock past the bound is refused", admin, "PUT", "/inventory/p-1", `{"available":1000001}`, 400, "available", ""},
		{"a body without available is refused", admin, "PUT", "/inventory/p-1", `{}`, 400, "available", ""},
		{"a stale version is a conflict", admin, "PUT", "/inventory/p-1", `{"available":7,"version":99}`, 409, "", ""},
		{"an adjustment adds to what is there", admin, "POST", "/inventory/p-1/adjustments", `{"delta":3,"reason":"delivery"}`, 200, `"available":8`, ""},
		{"an adjustment below zero is refused", admin, "POST", "/inventory/p-1/adjustments", `{"delta":-9,"reason":"count"}`, 422, "", ""},
		{"an adjustment needs a reason", admin, "POST", "/inventory/p-1/adjustments", `{"delta":1}`, 400, "reason", ""},
		{"a customer may not adjust", customer, "POST", "/inventory/p-1/adjustments", `{"delta":1,"reason":"x"}`, 403, "", ""},
		{"after the refusals the stock is as the last success left it", admin, "GET", "/inventory/p-1/admin", "", 200, `"available":8`, ""},
	}
	for _, s := range steps {
		rec := serve(t, as(s.caller), s.method, s.path, s.body)
		got := rec.Body.String()
		if rec.Code != s.status || !strings.Contains(got, s.bodyHas) || (s.bodyHasnt != "" && strings.Contains(got, s.bodyHasnt)) {
			t.Fatalf("%s: %s %s %s → %d %s, want %d with %q", s.name, s.method, s.path, s.body, rec.Code, got, s.status, s.bodyHas)
		}
	}
	var st httpapi.Stock
	if err := json.Unmarshal(serve(t, as(admin), "GET", "/inventory/p-1/admin", "").Body.Bytes(), &st); err != nil || st.Version < 2 {
		t.Fatalf("admin view %+v (%v): each change moves the version on", st, err)
	}
}

// FuzzStockBodies: no body sent to the stock routes makes a 5xx or panics.
func FuzzStockBodies(f *testing.F) {
	h := inventory(f)(admin)
	for _, route := range []struct{ method, path string }{{"PUT", "/inventory/p-1"}, {"POST", "/inventory/p-1/adjustments"}} {
		f.Add(route.method, route.path, `{"available":3}`)
		f.Add(route.method, route.path, `{"delta":-2,"reason":"count","available":null}`)
	}
	f.Fuzz(func(t *testing.T, method, path, body string) {
		if method != "PUT" && method != "POST" || !strings.HasPrefix(path, "/inventory/") {
			return
		}
		req, err := http.NewRequest(method, path, strings.NewReader(body))
		if err != nil {
			return // not a request a client could send
		}
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		resttest.CheckResponse(t, rec, method+" "+path+" "+body)
	})
}
