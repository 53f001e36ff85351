// Package consumer turns CheckoutBasket events into orders, as an SQS batch
// handler that runs unchanged on the local bus and on Lambda.
package consumer

import (
	"context"
	"log/slog"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/ordering"
	"github.com/eventshop/eventshop/internal/ordering/app"
)

// New returns the ordering service's consumer.
func New(a *app.Orders, log *slog.Logger) func(context.Context, awsevents.SQSEvent) (awsevents.SQSEventResponse, error) {
	return func(ctx context.Context, ev awsevents.SQSEvent) (awsevents.SQSEventResponse, error) {
		return events.HandleBatch(ctx, ev, log, func(ctx context.Context, env events.Envelope) error {
			if env.DetailType != events.TypeCheckoutBasket {
				log.WarnContext(ctx, "ignoring event of unknown type", "detailType", env.DetailType, "eventId", env.ID)
				return nil
			}
			var c events.CheckoutBasket
			if err := events.DecodeDetail(env, &c); err != nil {
				return err
			}
			created, err := a.Place(ctx, placeOrder(c))
			if err != nil {
				return err
			}
			log.InfoContext(ctx, "order", "orderId", c.CheckoutID, "userName", c.UserName, "created", created)
			return nil
		}), nil
	}
}

// placeOrder translates the integration event into the use case's command.
func placeOrder(c events.CheckoutBasket) app.PlaceOrder {
	lines := make([]ordering.Line, len(c.Lines))
	for i, l := range c.Lines {
		lines[i] = ordering.Line{ProductID: l.ProductID, ProductName: l.ProductName, Color: l.Color, Quantity: l.Quantity, UnitPrice: l.UnitPrice, LineTotal: l.LineTotal}
	}
	return app.PlaceOrder{
		CheckoutID:    c.CheckoutID,
		UserName:      c.UserName,
		FirstName:     c.FirstName,
		LastName:      c.LastName,
		Email:         c.Email,
		Address:       c.Address,
		PaymentMethod: c.PaymentMethod,
		Lines:         lines,
		TotalPrice:    c.TotalPrice,
		CheckedOutAt:  c.CheckedOutAt,
	}
}
