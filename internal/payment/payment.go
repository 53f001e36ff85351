// Package payment is the payment service's domain: an order's payment,
// taken through a Provider shaped like a real payment provider's API, and
// the repository port its adapters implement. Card data never reaches it:
// the buyer names a payment method, and the provider holds the rest.
package payment

import (
	"context"
	"errors"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/kind"
	"github.com/eventshop/eventshop/internal/money"
)

// ErrDeclined reports a payment the provider refused.
var ErrDeclined = errors.New("payment declined")

// ErrNotFound reports an order with no payment recorded.
var ErrNotFound = kind.New(kind.NotFound, "payment not found")

// Provider is a payment provider's API. Every call is idempotent by its
// key: the same key gets the same answer, so a retry never charges twice.
type Provider interface {
	// Authorize reserves amount on the buyer's method; ErrDeclined if refused.
	Authorize(ctx context.Context, key string, amount money.Cents, method string) (authorizationID string, err error)
	// Capture takes an authorized amount.
	Capture(ctx context.Context, key, authorizationID string, amount money.Cents) (captureID string, err error)
	// Refund gives a captured amount back.
	Refund(ctx context.Context, key, captureID string, amount money.Cents) (refundID string, err error)
}

// AuthorizeKey is the authorization's idempotency key; every key derives
// from the order, so a retry of any step reuses it.
func AuthorizeKey(orderID string) string { return "authorize-" + orderID }

// CaptureKey is the capture's idempotency key.
func CaptureKey(orderID string) string { return "capture-" + orderID }

// RefundKey is the refund's idempotency key.
func RefundKey(orderID string) string { return "refund-" + orderID }

// States of an order's payment.
const (
	StateCaptured  = "captured"
	StateDeclined  = "declined"
	StateRefunded  = "refunded"
	StateCancelled = "cancelled" // the order was cancelled before it was paid: it never will be
)

// Payment is an order's payment as the service keeps it.
type Payment struct {
	OrderID   string
	UserName  string
	State     string
	Amount    money.Cents
	CaptureID string
	RefundID  string
}

// Store keeps one payment per order. Record writes are conditional on the
// state they expect and commit the events they are given with them.
type Store interface {
	// Get returns an order's payment, or ErrNotFound.
	Get(ctx context.Context, orderID string) (Payment, error)
	// Record stores p if the order's payment is in state from ("" for none),
	// with evts; it reports false, storing nothing, if it is in another state.
	Record(ctx context.Context, p Payment, from string, evts ...events.Outgoing) (bool, error)
}
