//go:build !nolocal

package wire

import (
	"context"
	"net/http"

	"github.com/eventshop/eventshop/internal/catalog/app"
	"github.com/eventshop/eventshop/internal/catalog/httpapi"
	"github.com/eventshop/eventshop/internal/catalog/sqlite"
	"github.com/eventshop/eventshop/internal/page"
	"github.com/eventshop/eventshop/internal/wiring"
)

// local opens the catalog on SQLite; its demo data is the demo catalog,
// loaded into an empty catalog.
func local(ctx context.Context, d wiring.Local) (wiring.Parts, error) {
	store, err := sqlite.Open(ctx, d.Path)
	if err != nil {
		return wiring.Parts{}, err
	}
	uc := app.New(store)
	return wiring.Parts{
		Register: func(mux *http.ServeMux) { httpapi.Register(mux, uc, d.Log, d.Guard) },
		Outbox:   store.Outbox(),
		Close:    store.Close,
		Demo: func(ctx context.Context, products []wiring.DemoProduct) ([]wiring.DemoProduct, error) {
			n, err := uc.LoadDemo(ctx)
			if err != nil || n == 0 {
				return products, err
			}
			req := page.Request{Limit: page.Max}
			for {
				all, err := uc.List(ctx, "", req)
				if err != nil {
					return nil, err
				}
				for _, p := range all.Items {
					products = append(products, wiring.DemoProduct{ID: p.ID, Version: p.Version})
				}
				if all.NextToken == "" {
					return products, nil
				}
				req.Token = all.NextToken
			}
		},
	}, nil
}
