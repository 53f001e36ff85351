// Package consumer keeps the basket service's price view current from the
// catalog's ProductChanged and ProductDeleted events, as an SQS batch handler
// that runs unchanged on the local bus and on Lambda.
package consumer

import (
	"context"
	"log/slog"

	"github.com/eventshop/eventshop/internal/basket/app"
	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/validation"
)

// New returns the price view's consumer.
func New(a *app.Prices, log *slog.Logger) *eventbus.Consumer {
	logged := func(ctx context.Context, detailType, id string, version int64, applied bool, err error) error {
		if err != nil {
			return err
		}
		log.InfoContext(ctx, "price view", "event", detailType, "productId", id, "version", version, "applied", applied)
		return nil
	}
	return eventbus.NewConsumer(log,
		eventbus.On(func(ctx context.Context, e events.ProductChanged) error {
			if err := validation.ID("productId", e.ProductID); err != nil {
				return err
			}
			applied, err := a.Change(ctx, app.ChangePrice{ProductID: e.ProductID, Name: e.Name, Price: e.Price, Version: e.Version})
			return logged(ctx, events.TypeProductChanged, e.ProductID, e.Version, applied, err)
		}),
		eventbus.On(func(ctx context.Context, e events.ProductDeleted) error {
			if err := validation.ID("productId", e.ProductID); err != nil {
				return err
			}
			applied, err := a.Remove(ctx, app.RemoveProduct{ProductID: e.ProductID, Version: e.Version})
			return logged(ctx, events.TypeProductDeleted, e.ProductID, e.Version, applied, err)
		}),
	)
}
