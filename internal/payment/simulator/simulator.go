// Package simulator is a simulated payment provider, for the local shop,
// tests and demonstrations: no money moves. It approves every payment method
// except the documented test method TestDecline, which it declines at
// authorization. Its ids derive from the idempotency keys, so the same key
// always gets the same answer, in any process.
package simulator

import (
	"context"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/money"
	"github.com/eventshop/eventshop/internal/payment"
)

// TestDecline is the payment method the simulator declines.
const TestDecline = events.PaymentTestDecline

// Simulator implements payment.Provider without a real provider.
type Simulator struct{}

var _ payment.Provider = Simulator{}

// Authorize approves any method but TestDecline.
func (Simulator) Authorize(_ context.Context, key string, _ money.Cents, method string) (string, error) {
	if method == TestDecline {
		return "", payment.ErrDeclined
	}
	return "sim-auth-" + key, nil
}

// Capture takes the authorized amount.
func (Simulator) Capture(_ context.Context, key, _ string, _ money.Cents) (string, error) {
	return "sim-capture-" + key, nil
}

// Refund gives it back.
func (Simulator) Refund(_ context.Context, key, _ string, _ money.Cents) (string, error) {
	return "sim-refund-" + key, nil
}
