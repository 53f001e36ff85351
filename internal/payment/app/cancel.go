package app

import (
	"context"
	"errors"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/payment"
	"github.com/eventshop/eventshop/internal/validation"
)

// Cancel settles a cancelled order's payment: a captured one is refunded
// (PaymentRefunded); an order not yet paid is marked so that a payment
// arriving late takes nothing. It returns the payment's state.
func (a *Payments) Cancel(ctx context.Context, userName, orderID string) (string, error) {
	if err := validation.First(validation.ID("orderId", orderID), validation.UserName("userName", userName)); err != nil {
		return "", err
	}
	for range 3 {
		p, err := a.store.Get(ctx, orderID)
		switch {
		case errors.Is(err, payment.ErrNotFound):
			ok, err := a.store.Record(ctx, payment.Payment{OrderID: orderID, UserName: userName, State: payment.StateCancelled}, "")
			if err != nil || ok {
				return payment.StateCancelled, err
			}
			continue // a payment was recorded meanwhile
		case err != nil:
			return "", err
		case p.State == payment.StateCaptured:
			return a.refund(ctx, p, payment.StateCaptured)
		default:
			return p.State, nil // declined, refunded or cancelled: nothing to give back
		}
	}
	return "", errors.New("the payment kept changing; retry")
}

// refund gives p's captured amount back and records it, from state from.
func (a *Payments) refund(ctx context.Context, p payment.Payment, from string) (string, error) {
	refundID, err := a.provider.Refund(ctx, payment.RefundKey(p.OrderID), p.CaptureID, p.Amount)
	if err != nil {
		return "", err
	}
	refunded, err := events.New(ctx, events.SourcePayment, events.TypePaymentRefunded, events.PaymentRefunded{
		OrderRef: events.OrderRef{OrderID: p.OrderID, UserName: p.UserName}, PaymentID: refundID, Amount: p.Amount,
	}, a.now())
	if err != nil {
		return "", err
	}
	p.State, p.RefundID = payment.StateRefunded, refundID
	return a.record(ctx, p, from, refunded)
}
