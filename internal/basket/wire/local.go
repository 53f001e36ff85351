//go:build !nolocal

package wire

import (
	"context"
	"net/http"

	"github.com/eventshop/eventshop/internal/basket/app"
	"github.com/eventshop/eventshop/internal/basket/consumer"
	"github.com/eventshop/eventshop/internal/basket/httpapi"
	"github.com/eventshop/eventshop/internal/basket/sqlite"
	"github.com/eventshop/eventshop/internal/wiring"
)

// local opens the basket on SQLite: one database holds the baskets and the
// price view.
func local(ctx context.Context, d wiring.Local) (wiring.Parts, error) {
	store, err := sqlite.Open(ctx, d.Path)
	if err != nil {
		return wiring.Parts{}, err
	}
	uc := app.New(store, store)
	return wiring.Parts{
		Register: func(mux *http.ServeMux) { httpapi.Register(mux, uc, d.Log, d.Guard) },
		Consumer: consumer.New(app.NewPrices(store), d.Log),
		Outbox:   store.Outbox(),
		Close:    store.Close,
	}, nil
}
