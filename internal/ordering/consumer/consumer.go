// Package consumer turns CheckoutBasket events into orders, and the saga's
// outcomes (stock reserved or rejected, payment captured, declined or
// refunded) into their status changes, as an SQS batch handler that runs
// unchanged on the local bus and on Lambda.
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
			return handle(ctx, a, log, env)
		}), nil
	}
}

func handle(ctx context.Context, a *app.Orders, log *slog.Logger, env events.Envelope) error {
	var (
		outcome app.Outcome
		ref     events.OrderRef
	)
	switch env.DetailType {
	case events.TypeCheckoutBasket:
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
	case events.TypeStockReserved:
		var e events.StockReserved
		if err := events.DecodeDetail(env, &e); err != nil {
			return err
		}
		ref, outcome = e.OrderRef, app.Outcome{To: ordering.StatusReserved}
	case events.TypeStockRejected:
		var e events.StockRejected
		if err := events.DecodeDetail(env, &e); err != nil {
			return err
		}
		ref, outcome = e.OrderRef, app.Outcome{To: ordering.StatusCancelled, Reason: e.Reason}
	case events.TypePaymentCaptured:
		var e events.PaymentCaptured
		if err := events.DecodeDetail(env, &e); err != nil {
			return err
		}
		paid, err := a.Apply(ctx, app.Outcome{OrderID: e.OrderID, UserName: e.UserName, Via: ordering.StatusReserved, To: ordering.StatusPaid})
		if err != nil || paid {
			log.InfoContext(ctx, "order status", "orderId", e.OrderID, "to", ordering.StatusPaid, "applied", paid)
			return err
		}
		// Cancelled while the payment was being captured: the history keeps
		// the charge, which the payment service refunds.
		recorded, err := a.RecordCapture(ctx, e.UserName, e.OrderID)
		if err != nil {
			return err
		}
		log.InfoContext(ctx, "order payment captured", "orderId", e.OrderID, "recorded", recorded)
		return nil
	case events.TypePaymentDeclined:
		var e events.PaymentDeclined
		if err := events.DecodeDetail(env, &e); err != nil {
			return err
		}
		ref, outcome = e.OrderRef, app.Outcome{To: ordering.StatusCancelled, Reason: ordering.ReasonPaymentDeclined}
	case events.TypePaymentRefunded:
		var e events.PaymentRefunded
		if err := events.DecodeDetail(env, &e); err != nil {
			return err
		}
		recorded, err := a.RecordRefund(ctx, e.UserName, e.OrderID)
		if err != nil {
			return err
		}
		log.InfoContext(ctx, "order refund", "orderId", e.OrderID, "recorded", recorded)
		return nil
	default:
		log.WarnContext(ctx, "ignoring event of unknown type", "detailType", env.DetailType, "eventId", env.ID)
		return nil
	}
	outcome.OrderID, outcome.UserName = ref.OrderID, ref.UserName
	applied, err := a.Apply(ctx, outcome)
	if err != nil {
		return err
	}
	log.InfoContext(ctx, "order status", "orderId", ref.OrderID, "to", outcome.To, "reason", outcome.Reason, "applied", applied)
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
