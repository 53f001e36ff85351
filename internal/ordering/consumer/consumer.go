// Package consumer turns CheckoutBasket events into orders, and the saga's
// outcomes (stock reserved or rejected, payment captured, declined or
// refunded) into their status changes, as an SQS batch handler that runs
// unchanged on the local bus and on Lambda.
package consumer

import (
	"context"
	"log/slog"

	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/ordering"
	"github.com/eventshop/eventshop/internal/ordering/app"
)

// New returns the ordering service's consumer.
func New(a *app.Orders, log *slog.Logger) *eventbus.Consumer {
	c := consumer{a, log}
	return eventbus.NewConsumer(log,
		eventbus.On(c.place),
		eventbus.On(func(ctx context.Context, e events.StockReserved) error {
			return c.apply(ctx, e.OrderRef, app.Move{To: ordering.StatusReserved})
		}),
		eventbus.On(func(ctx context.Context, e events.StockRejected) error {
			return c.apply(ctx, e.OrderRef, app.Move{To: ordering.StatusCancelled, Reason: e.Reason, Unavailable: e.ProductIDs})
		}),
		eventbus.On(c.captured),
		eventbus.On(func(ctx context.Context, e events.PaymentDeclined) error {
			return c.apply(ctx, e.OrderRef, app.Move{To: ordering.StatusCancelled, Reason: ordering.ReasonPaymentDeclined})
		}),
		eventbus.On(c.refunded),
	)
}

type consumer struct {
	a   *app.Orders
	log *slog.Logger
}

func (c consumer) place(ctx context.Context, e events.CheckoutBasket) error {
	created, err := c.a.Place(ctx, placeOrder(e))
	if err != nil {
		return err
	}
	c.log.InfoContext(ctx, "order", "orderId", e.CheckoutID, "userName", e.UserName, "created", created)
	return nil
}

// apply moves the order ref names as the saga's outcome says.
func (c consumer) apply(ctx context.Context, ref events.OrderRef, outcome app.Move) error {
	outcome.OrderID, outcome.UserName = ref.OrderID, ref.UserName
	applied, err := c.a.Apply(ctx, outcome)
	if err != nil {
		return err
	}
	c.log.InfoContext(ctx, "order status", "orderId", ref.OrderID, "to", outcome.To, "reason", outcome.Reason, "applied", applied)
	return nil
}

func (c consumer) captured(ctx context.Context, e events.PaymentCaptured) error {
	paid, err := c.a.Apply(ctx, app.Move{OrderID: e.OrderID, UserName: e.UserName, Via: ordering.StatusReserved, To: ordering.StatusPaid})
	if err != nil || paid {
		c.log.InfoContext(ctx, "order status", "orderId", e.OrderID, "to", ordering.StatusPaid, "applied", paid)
		return err
	}
	// Cancelled while the payment was being captured: the history keeps
	// the charge, which the payment service refunds.
	recorded, err := c.a.RecordCapture(ctx, e.UserName, e.OrderID)
	if err != nil {
		return err
	}
	c.log.InfoContext(ctx, "order payment captured", "orderId", e.OrderID, "recorded", recorded)
	return nil
}

func (c consumer) refunded(ctx context.Context, e events.PaymentRefunded) error {
	recorded, err := c.a.RecordRefund(ctx, e.UserName, e.OrderID)
	if err != nil {
		return err
	}
	c.log.InfoContext(ctx, "order refund", "orderId", e.OrderID, "recorded", recorded)
	return nil
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
