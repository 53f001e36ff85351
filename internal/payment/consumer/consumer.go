// Package consumer is the payment service's consumer, as an SQS batch
// handler that runs unchanged on the local bus and on Lambda: stock reserved
// is paid for; a cancelled order's payment is refunded, or the order marked
// so that it is never paid.
package consumer

import (
	"context"
	"log/slog"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/payment/app"
)

// New returns the payment service's consumer.
func New(a *app.Payments, log *slog.Logger) func(context.Context, awsevents.SQSEvent) (awsevents.SQSEventResponse, error) {
	return func(ctx context.Context, ev awsevents.SQSEvent) (awsevents.SQSEventResponse, error) {
		return events.HandleBatch(ctx, ev, log, func(ctx context.Context, env events.Envelope) error {
			switch env.DetailType {
			case events.TypeStockReserved:
				var e events.StockReserved
				if err := events.DecodeDetail(env, &e); err != nil {
					return err
				}
				state, err := a.Take(ctx, app.TakePayment{OrderID: e.OrderID, UserName: e.UserName, Amount: e.TotalPrice, Method: e.PaymentMethod})
				if err != nil {
					return err
				}
				log.InfoContext(ctx, "payment", "orderId", e.OrderID, "state", state)
			case events.TypeOrderCancelled:
				var e events.OrderCancelled
				if err := events.DecodeDetail(env, &e); err != nil {
					return err
				}
				state, err := a.Cancel(ctx, e.OrderID, e.UserName)
				if err != nil {
					return err
				}
				log.InfoContext(ctx, "payment of a cancelled order", "orderId", e.OrderID, "from", e.From, "state", state)
			default:
				log.WarnContext(ctx, "ignoring event of unknown type", "detailType", env.DetailType, "eventId", env.ID)
			}
			return nil
		}), nil
	}
}
