// Package consumer is the inventory service's consumer, as an SQS batch
// handler that runs unchanged on the local bus and on Lambda: the catalog's
// products (ProductChanged, ProductDeleted) keep its list of products
// current; an order placed is reserved; a cancelled order gives back its
// stock (or, cancelled first, never takes any); an order shipped has its
// stock sold.
package consumer

import (
	"context"
	"log/slog"

	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/inventory"
	"github.com/eventshop/eventshop/internal/inventory/app"
)

// New returns the inventory's consumer.
func New(a *app.Inventory, log *slog.Logger) *eventbus.Consumer {
	announce := func(ctx context.Context, c app.AnnounceProduct) error {
		changed, err := a.Announce(ctx, c)
		if err != nil {
			return err
		}
		log.InfoContext(ctx, "inventory product", "productId", c.ProductID, "version", c.Version, "deleted", c.Deleted, "applied", changed)
		return nil
	}
	return eventbus.NewConsumer(log,
		eventbus.On(func(ctx context.Context, e events.ProductChanged) error {
			return announce(ctx, app.AnnounceProduct{ProductID: e.ProductID, Version: e.Version})
		}),
		eventbus.On(func(ctx context.Context, e events.ProductDeleted) error {
			return announce(ctx, app.AnnounceProduct{ProductID: e.ProductID, Version: e.Version, Deleted: true})
		}),
		eventbus.On(func(ctx context.Context, e events.OrderPlaced) error {
			lines := make([]inventory.Need, len(e.Lines))
			for i, l := range e.Lines {
				lines[i] = inventory.Need{ProductID: l.ProductID, Quantity: l.Quantity}
			}
			outcome, err := a.Reserve(ctx, app.ReserveOrder{OrderID: e.OrderID, UserName: e.UserName, Lines: lines, TotalPrice: e.TotalPrice, PaymentMethod: e.PaymentMethod})
			if err != nil {
				return err
			}
			log.InfoContext(ctx, "reservation", "orderId", e.OrderID, "outcome", outcome)
			return nil
		}),
		eventbus.On(func(ctx context.Context, e events.OrderCancelled) error {
			if err := a.Release(ctx, e.OrderID); err != nil {
				return err
			}
			log.InfoContext(ctx, "released", "orderId", e.OrderID, "from", e.From)
			return nil
		}),
		eventbus.On(func(ctx context.Context, e events.OrderShipped) error {
			if err := a.Commit(ctx, e.OrderID); err != nil {
				return err
			}
			log.InfoContext(ctx, "sold", "orderId", e.OrderID)
			return nil
		}),
	)
}
