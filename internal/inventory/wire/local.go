//go:build !nolocal

package wire

import (
	"context"
	"net/http"

	"github.com/eventshop/eventshop/internal/inventory/app"
	"github.com/eventshop/eventshop/internal/inventory/consumer"
	"github.com/eventshop/eventshop/internal/inventory/httpapi"
	"github.com/eventshop/eventshop/internal/inventory/sqlite"
	"github.com/eventshop/eventshop/internal/wiring"
)

// local opens the inventory on SQLite; its demo data is app.DemoStock
// units of every demo product, set through its use cases. It learns of the
// products from their events too, later; those announcements are not newer,
// so they change nothing.
func local(ctx context.Context, d wiring.Local) (wiring.Parts, error) {
	store, err := sqlite.Open(ctx, d.Path)
	if err != nil {
		return wiring.Parts{}, err
	}
	uc := app.New(store)
	return wiring.Parts{
		Register: func(mux *http.ServeMux) { httpapi.Register(mux, uc, d.Log) },
		Consumer: consumer.New(uc, d.Log),
		Outbox:   store.Outbox(),
		Close:    store.Close,
		Demo: func(ctx context.Context, products []wiring.DemoProduct) ([]wiring.DemoProduct, error) {
			for _, p := range products {
				if _, err := uc.Announce(ctx, app.AnnounceProduct{ProductID: p.ID, Version: p.Version}); err != nil {
					return nil, err
				}
				if _, err := uc.SetAvailable(ctx, p.ID, app.DemoStock, 0); err != nil {
					return nil, err
				}
			}
			return products, nil
		},
	}, nil
}
