//go:build !nolocal

package wire

import (
	"context"

	"github.com/eventshop/eventshop/internal/payment/app"
	"github.com/eventshop/eventshop/internal/payment/consumer"
	"github.com/eventshop/eventshop/internal/payment/simulator"
	"github.com/eventshop/eventshop/internal/payment/sqlite"
	"github.com/eventshop/eventshop/internal/wiring"
)

// local opens payment on SQLite, with the simulator for its provider.
func local(ctx context.Context, d wiring.Local) (wiring.Parts, error) {
	store, err := sqlite.Open(ctx, d.Path)
	if err != nil {
		return wiring.Parts{}, err
	}
	return wiring.Parts{
		Consumer: consumer.New(app.New(store, simulator.Simulator{}), d.Log),
		Outbox:   store.Outbox(),
		Close:    store.Close,
	}, nil
}
