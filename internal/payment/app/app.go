// Package app holds the payment service's use cases: take the payment of an
// order whose stock is reserved, and give it back when the order is
// cancelled. Every step is idempotent: the provider's calls by their keys,
// the store's writes by the state they expect.
package app

import (
	"context"
	"errors"
	"time"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/money"
	"github.com/eventshop/eventshop/internal/payment"
	"github.com/eventshop/eventshop/internal/validation"
)

// Payments runs the payment use cases.
type Payments struct {
	store    payment.Store
	provider payment.Provider
	now      func() time.Time
}

// New returns the use cases over store, paying through provider.
func New(store payment.Store, provider payment.Provider) *Payments {
	return &Payments{store: store, provider: provider, now: time.Now}
}

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
	if p, found, err := a.store.Get(ctx, c.OrderID); err != nil || found {
		return p.State, err
	}
	ref := events.OrderRef{OrderID: c.OrderID, UserName: c.UserName}
	auth, err := a.provider.Authorize(ctx, payment.AuthorizeKey(c.OrderID), c.Amount, c.Method)
	if errors.Is(err, payment.ErrDeclined) {
		declined, err := events.New(events.SourcePayment, events.TypePaymentDeclined, events.PaymentDeclined{Meta: events.MetaFrom(ctx), OrderRef: ref, Reason: "declined by the provider"}, a.now())
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
	captured, err := events.New(events.SourcePayment, events.TypePaymentCaptured, events.PaymentCaptured{Meta: events.MetaFrom(ctx), OrderRef: ref, PaymentID: captureID, Amount: c.Amount}, a.now())
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

// Cancel settles a cancelled order's payment: a captured one is refunded
// (PaymentRefunded); an order not yet paid is marked so that a payment
// arriving late takes nothing. It returns the payment's state.
func (a *Payments) Cancel(ctx context.Context, orderID, userName string) (string, error) {
	if err := validation.First(validation.ID("orderId", orderID), validation.UserName("userName", userName)); err != nil {
		return "", err
	}
	for range 3 {
		p, found, err := a.store.Get(ctx, orderID)
		switch {
		case err != nil:
			return "", err
		case !found:
			ok, err := a.store.Record(ctx, payment.Payment{OrderID: orderID, UserName: userName, State: payment.StateCancelled}, "")
			if err != nil || ok {
				return payment.StateCancelled, err
			}
			continue // a payment was recorded meanwhile
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
	refunded, err := events.New(events.SourcePayment, events.TypePaymentRefunded, events.PaymentRefunded{
		Meta: events.MetaFrom(ctx), OrderRef: events.OrderRef{OrderID: p.OrderID, UserName: p.UserName}, PaymentID: refundID, Amount: p.Amount,
	}, a.now())
	if err != nil {
		return "", err
	}
	p.State, p.RefundID = payment.StateRefunded, refundID
	return a.record(ctx, p, from, refunded)
}

// record stores p from state from with its event; when another write won,
// it returns the state that write left.
func (a *Payments) record(ctx context.Context, p payment.Payment, from string, evt events.Outgoing) (string, error) {
	ok, err := a.store.Record(ctx, p, from, evt)
	if err != nil {
		return "", err
	}
	if ok {
		return p.State, nil
	}
	cur, _, err := a.store.Get(ctx, p.OrderID)
	return cur.State, err
}
