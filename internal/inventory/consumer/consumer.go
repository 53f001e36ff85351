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

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/inventory"
	"github.com/eventshop/eventshop/internal/inventory/app"
)

// New returns the inventory's consumer.
func New(a *app.Inventory, log *slog.Logger) func(context.Context, awsevents.SQSEvent) (awsevents.SQSEventResponse, error) {
	return func(ctx context.Context, ev awsevents.SQSEvent) (awsevents.SQSEventResponse, error) {
		return events.HandleBatch(ctx, ev, log, func(ctx context.Context, env events.Envelope) error {
			return handle(ctx, a, log, env)
		}), nil
	}
}

func handle(ctx context.Context, a *app.Inventory, log *slog.Logger, env events.Envelope) error {
	switch env.DetailType {
	case events.TypeProductChanged, events.TypeProductDeleted:
		c := app.AnnounceProduct{}
		if env.DetailType == events.TypeProductChanged {
			var e events.ProductChanged
			if err := events.DecodeDetail(env, &e); err != nil {
				return err
			}
			c = app.AnnounceProduct{ProductID: e.ProductID, Version: e.Version}
		} else {
			var e events.ProductDeleted
			if err := events.DecodeDetail(env, &e); err != nil {
				return err
			}
			c = app.AnnounceProduct{ProductID: e.ProductID, Version: e.Version, Deleted: true}
		}
		changed, err := a.Announce(ctx, c)
		if err != nil {
			return err
		}
		log.InfoContext(ctx, "inventory product", "productId", c.ProductID, "version", c.Version, "deleted", c.Deleted, "applied", changed)
	case events.TypeOrderPlaced:
		var e events.OrderPlaced
		if err := events.DecodeDetail(env, &e); err != nil {
			return err
		}
		lines := make([]inventory.Line, len(e.Lines))
		for i, l := range e.Lines {
			lines[i] = inventory.Line{ProductID: l.ProductID, Quantity: l.Quantity}
		}
		outcome, err := a.Reserve(ctx, app.ReserveOrder{OrderID: e.OrderID, UserName: e.UserName, Lines: lines, TotalPrice: e.TotalPrice, PaymentMethod: e.PaymentMethod})
		if err != nil {
			return err
		}
		log.InfoContext(ctx, "reservation", "orderId", e.OrderID, "outcome", outcome)
	case events.TypeOrderCancelled:
		var e events.OrderCancelled
		if err := events.DecodeDetail(env, &e); err != nil {
			return err
		}
		if err := a.Release(ctx, e.OrderID); err != nil {
			return err
		}
		log.InfoContext(ctx, "released", "orderId", e.OrderID, "from", e.From)
	case events.TypeOrderShipped:
		var e events.OrderShipped
		if err := events.DecodeDetail(env, &e); err != nil {
			return err
		}
		if err := a.Commit(ctx, e.OrderID); err != nil {
			return err
		}
		log.InfoContext(ctx, "sold", "orderId", e.OrderID)
	default:
		log.WarnContext(ctx, "ignoring event of unknown type", "detailType", env.DetailType, "eventId", env.ID)
	}
	return nil
}
