// Package consumer is the payment service's consumer, as an SQS batch
// handler that runs unchanged on the local bus and on Lambda: stock reserved
// is paid for; a cancelled order's payment is refunded, or the order marked
// so that it is never paid.
package consumer

import (
	"context"
	"log/slog"

	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/payment/app"
)

// New returns the payment service's consumer.
func New(a *app.Payments, log *slog.Logger) *eventbus.Consumer {
	return eventbus.NewConsumer(log,
		eventbus.On(func(ctx context.Context, e events.StockReserved) error {
			state, err := a.Take(ctx, app.TakePayment{OrderID: e.OrderID, UserName: e.UserName, Amount: e.TotalPrice, Method: e.PaymentMethod})
			if err != nil {
				return err
			}
			log.InfoContext(ctx, "payment", "orderId", e.OrderID, "state", state)
			return nil
		}),
		eventbus.On(func(ctx context.Context, e events.OrderCancelled) error {
			state, err := a.Cancel(ctx, e.UserName, e.OrderID)
			if err != nil {
				return err
			}
			log.InfoContext(ctx, "payment of a cancelled order", "orderId", e.OrderID, "from", e.From, "state", state)
			return nil
		}),
	)
}
