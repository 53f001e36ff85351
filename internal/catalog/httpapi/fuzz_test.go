package httpapi_test

import (
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/eventshop/eventshop/internal/auth"
	"github.com/eventshop/eventshop/internal/catalog"
	"github.com/eventshop/eventshop/internal/catalog/app"
	"github.com/eventshop/eventshop/internal/catalog/httpapi"
	"github.com/eventshop/eventshop/internal/catalog/sqlite"
	"github.com/eventshop/eventshop/internal/idempotency/idemtest"
	"github.com/eventshop/eventshop/internal/rest/resttest"
)

var seeds = []string{
	`{"name":"Widget","category":"Tools","price":19.99}`,
	`{"name":"Widget","category":"Tools","price":19.99,"description":"d","imageFile":"w.png","version":1}`,
	`{"name":"Widget","category":"Tools","price":1e400}`,
	`{"name":"Widget","category":"Tools","price":"19.99"}`,
	`{"name":"","category":"","price":-1}`,
	`{"name":"\u0000","category":"x","price":0.001}`,
	`{"id":"../../x","name":"a","category":"b","price":1}`,
	`{"price":99999999999999999999}`,
	`[]`, `null`, `{`, `{"name":1}`, `{"unknown":true}`,
	// Hostile: keys in another case, repeated keys, null values, invalid UTF-8, a price as a string.
	`{"NAME":"Widget","category":"Tools","price":19.99}`, `{"name":"a","name":"b","category":"c","price":1}`,
	`{"name":null,"category":"c","price":1}`, `{"name":"W","category":"c","price":null}`, "{\"name\":\"\xff\",\"category\":\"c\",\"price\":1}",
	`{"name":"<img src=x onerror=alert(1)>","category":"c","price":"1"}`, `{"name":"W","category":"c","price":1,"version":null}`,
}

func handler(f testing.TB) (http.Handler, catalog.Product) {
	store, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "catalog.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { store.Close() })
	uc := app.New(store)
	p, err := uc.Create(context.Background(), catalog.Details{Name: "Seed", Category: "Tools", Price: 100})
	if err != nil {
		f.Fatal(err)
	}
	mux := http.NewServeMux()
	httpapi.Register(mux, uc, slog.New(slog.DiscardHandler), idemtest.Guard(f))
	return resttest.Handler(mux, auth.Claims{Subject: "s", UserName: "root", Groups: []string{auth.AdminGroup}}), p
}

func FuzzCreateProduct(f *testing.F) {
	h, _ := handler(f)
	resttest.FuzzBody(f, h, "POST", "/product", seeds...)
}

func FuzzUpdateProduct(f *testing.F) {
	h, p := handler(f)
	resttest.FuzzBody(f, h, "PUT", "/product/"+p.ID, seeds...)
}
