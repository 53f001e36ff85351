package httpapi_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/eventshop/eventshop/internal/auth"
	"github.com/eventshop/eventshop/internal/idempotency/idemtest"
	"github.com/eventshop/eventshop/internal/ordering/app"
	"github.com/eventshop/eventshop/internal/ordering/httpapi"
	"github.com/eventshop/eventshop/internal/ordering/sqlite"
	"github.com/eventshop/eventshop/internal/rest/resttest"
)

// FuzzOrderRequests fuzzes what an orders request carries: the path's user
// name and order id and the page query.
func FuzzOrderRequests(f *testing.F) {
	store, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "ordering.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { store.Close() })
	mux := http.NewServeMux()
	httpapi.Register(mux, app.New(store), slog.New(slog.DiscardHandler), idemtest.Guard(f))
	h := resttest.Handler(mux, auth.Claims{Subject: "s", UserName: "root", Groups: []string{auth.AdminGroup}})
	for _, s := range [][3]string{
		{"alice", "", "limit=5"},
		{"alice", "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", ""},
		{"alice", "../x", "limit=0"},
		{"a b", "", "nextToken=eyJvIjoxfQ"},
		{"alice", "", "nextToken=%%%&limit=-1"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, user, orderID, query string) {
		path := "/order/" + url.PathEscape(user)
		if orderID != "" {
			path += "/" + url.PathEscape(orderID)
		}
		req, err := http.NewRequest("GET", path+"?"+query, nil)
		if err != nil {
			return // not a request a client could send
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		resttest.CheckResponse(t, rec, path+"?"+query)
	})
}
