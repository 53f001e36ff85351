//go:build !nolocal

package wire

import (
	"context"
	"net/http"

	"github.com/eventshop/eventshop/internal/ordering/app"
	"github.com/eventshop/eventshop/internal/ordering/consumer"
	"github.com/eventshop/eventshop/internal/ordering/httpapi"
	"github.com/eventshop/eventshop/internal/ordering/sqlite"
	"github.com/eventshop/eventshop/internal/wiring"
)

// local opens ordering on SQLite.
func local(ctx context.Context, d wiring.Local) (wiring.Parts, error) {
	store, err := sqlite.Open(ctx, d.Path)
	if err != nil {
		return wiring.Parts{}, err
	}
	uc := app.New(store)
	return wiring.Parts{
		Register: func(mux *http.ServeMux) { httpapi.Register(mux, uc, d.Log, d.Guard) },
		Consumer: consumer.New(uc, d.Log),
		Outbox:   store.Outbox(),
		Close:    store.Close,
	}, nil
}
