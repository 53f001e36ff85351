package app_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/events/eventstest"
	"github.com/eventshop/eventshop/internal/money"
	"github.com/eventshop/eventshop/internal/payment"
	"github.com/eventshop/eventshop/internal/payment/app"
	"github.com/eventshop/eventshop/internal/payment/simulator"
	"github.com/eventshop/eventshop/internal/payment/sqlite"
)

// counting is the simulator, counting the captures it made.
type counting struct {
	simulator.Simulator
	captures atomic.Int32
}

func (c *counting) Capture(ctx context.Context, key, auth string, amount money.Cents) (string, error) {
	c.captures.Add(1)
	return c.Simulator.Capture(ctx, key, auth, amount)
}

func setup(t *testing.T) (*app.Payments, *sqlite.Store, *counting) {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "payment.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	p := &counting{}
	return app.New(s, p), s, p
}

func relayed(t *testing.T, s *sqlite.Store) []string {
	t.Helper()
	var c eventstest.Collector
	if _, err := s.Outbox().Flush(t.Context(), &c); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range c.Events() {
		types = append(types, e.DetailType)
	}
	return types
}

func TestTakeAndRefund(t *testing.T) {
	a, s, p := setup(t)
	c := app.TakePayment{OrderID: "o1", UserName: "alice", Amount: 5997, Method: "invoice"}
	for range 2 {
		if state, err := a.Take(t.Context(), c); err != nil || state != payment.StateCaptured {
			t.Fatalf("Take = %v, %v", state, err)
		}
	}
	if got := relayed(t, s); len(got) != 1 || got[0] != events.TypePaymentCaptured || p.captures.Load() != 1 {
		t.Fatalf("events %v after %d captures; want one PaymentCaptured", got, p.captures.Load())
	}
	for range 2 {
		if state, err := a.Cancel(t.Context(), "o1", "alice"); err != nil || state != payment.StateRefunded {
			t.Fatalf("Cancel = %v, %v", state, err)
		}
	}
	if got := relayed(t, s); len(got) != 1 || got[0] != events.TypePaymentRefunded {
		t.Fatalf("events %v; want one PaymentRefunded", got)
	}
}

func TestTheTestMethodIsDeclined(t *testing.T) {
	a, s, p := setup(t)
	if state, err := a.Take(t.Context(), app.TakePayment{OrderID: "o1", UserName: "alice", Amount: 100, Method: simulator.TestDecline}); err != nil || state != payment.StateDeclined {
		t.Fatalf("Take = %v, %v", state, err)
	}
	if got := relayed(t, s); len(got) != 1 || got[0] != events.TypePaymentDeclined || p.captures.Load() != 0 {
		t.Fatalf("events %v, %d captures", got, p.captures.Load())
	}
	if state, _ := a.Cancel(t.Context(), "o1", "alice"); state != payment.StateDeclined {
		t.Fatalf("Cancel of a declined payment: %v", state)
	}
	if got := relayed(t, s); len(got) != 0 {
		t.Fatalf("cancelling a declined payment emitted %v", got)
	}
}

// A cancellation that arrives before the stock's reservation event: the
// payment that follows takes nothing.
func TestCancelFirstMeansNoPayment(t *testing.T) {
	a, s, p := setup(t)
	if state, err := a.Cancel(t.Context(), "o1", "alice"); err != nil || state != payment.StateCancelled {
		t.Fatalf("Cancel = %v, %v", state, err)
	}
	if state, err := a.Take(t.Context(), app.TakePayment{OrderID: "o1", UserName: "alice", Amount: 100, Method: "invoice"}); err != nil || state != payment.StateCancelled {
		t.Fatalf("Take after cancel = %v, %v", state, err)
	}
	if got := relayed(t, s); len(got) != 0 || p.captures.Load() != 0 {
		t.Fatalf("events %v, %d captures: nothing should be charged", got, p.captures.Load())
	}
}
