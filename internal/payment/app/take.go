package app

import (
	"context"
	"errors"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/money"
	"github.com/eventshop/eventshop/internal/payment"
	"github.com/eventshop/eventshop/internal/validation"
)

// TakePayment is the command to take an order's payment.
type TakePayment struct {
	OrderID, UserName string
	Amount            money.Cents
	Method            string
}

// Take authorizes and captures an order's payment and tells the others:
// PaymentCaptured, or PaymentDeclined. An order whose payment is already
// recorded (taken, declined, or cancelled first) is left as it is. It
// returns the payment's state.
func (a *Payments) Take(ctx context.Context, c TakePayment) (string, error) {
	if err := validation.First(validation.ID("orderId", c.OrderID), validation.UserName("userName", c.UserName)); err != nil {
		return "", err
	}
	if p, err := a.store.Get(ctx, c.OrderID); !errors.Is(err, payment.ErrNotFound) {
		return p.State, err
	}
	ref := events.OrderRef{OrderID: c.OrderID, UserName: c.UserName}
	auth, err := a.provider.Authorize(ctx, payment.AuthorizeKey(c.OrderID), c.Amount, c.Method)
	if errors.Is(err, payment.ErrDeclined) {
		declined, err := events.New(ctx, events.SourcePayment, events.TypePaymentDeclined, events.PaymentDeclined{OrderRef: ref, Reason: "declined by the provider"}, a.now())
		if err != nil {
			return "", err
		}
		return a.record(ctx, payment.Payment{OrderID: c.OrderID, UserName: c.UserName, State: payment.StateDeclined, Amount: c.Amount}, "", declined)
	}
	if err != nil {
		return "", err
	}
	captureID, err := a.provider.Capture(ctx, payment.CaptureKey(c.OrderID), auth, c.Amount)
	if err != nil {
		return "", err
	}
	p := payment.Payment{OrderID: c.OrderID, UserName: c.UserName, State: payment.StateCaptured, Amount: c.Amount, CaptureID: captureID}
	captured, err := events.New(ctx, events.SourcePayment, events.TypePaymentCaptured, events.PaymentCaptured{OrderRef: ref, PaymentID: captureID, Amount: c.Amount}, a.now())
	if err != nil {
		return "", err
	}
	state, err := a.record(ctx, p, "", captured)
	if err != nil || state != payment.StateCancelled {
		return state, err
	}
	// The order was cancelled while its payment was taken: give it back.
	return a.refund(ctx, p, payment.StateCancelled)
}
