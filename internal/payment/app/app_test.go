package app_test

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/eventstest"
	"github.com/eventshop/eventshop/internal/money"
	"github.com/eventshop/eventshop/internal/payment"
	"github.com/eventshop/eventshop/internal/payment/app"
	"github.com/eventshop/eventshop/internal/payment/simulator"
	"github.com/eventshop/eventshop/internal/payment/sqlite"
)

// counting is the simulator, counting the captures and refunds it made.
type counting struct {
	simulator.Simulator
	captures, refunds atomic.Int32
}

func (c *counting) Capture(ctx context.Context, key, auth string, amount money.Cents) (string, error) {
	c.captures.Add(1)
	return c.Simulator.Capture(ctx, key, auth, amount)
}

func (c *counting) Refund(ctx context.Context, key, captureID string, amount money.Cents) (string, error) {
	c.refunds.Add(1)
	return c.Simulator.Refund(ctx, key, captureID, amount)
}

// racing is a store where another write lands first: before its first
// Record, race runs, as a concurrent Take or Cancel would.
type racing struct {
	payment.Store
	race func()
	once sync.Once
}

func (r *racing) Record(ctx context.Context, p payment.Payment, from string, evts ...events.Outgoing) (bool, error) {
	r.once.Do(r.race)
	return r.Store.Record(ctx, p, from, evts...)
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
	if got := relayed(t, s); len(got) != 1 || got[0] != events.TypePaymentCaptured || p.captures.Load() != 1 || p.refunds.Load() != 0 {
		t.Fatalf("events %v after %d captures and %d refunds; want one PaymentCaptured", got, p.captures.Load(), p.refunds.Load())
	}
	for range 2 {
		if state, err := a.Cancel(t.Context(), "alice", "o1"); err != nil || state != payment.StateRefunded {
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
	if state, _ := a.Cancel(t.Context(), "alice", "o1"); state != payment.StateDeclined {
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
	if state, err := a.Cancel(t.Context(), "alice", "o1"); err != nil || state != payment.StateCancelled {
		t.Fatalf("Cancel = %v, %v", state, err)
	}
	if state, err := a.Take(t.Context(), app.TakePayment{OrderID: "o1", UserName: "alice", Amount: 100, Method: "invoice"}); err != nil || state != payment.StateCancelled {
		t.Fatalf("Take after cancel = %v, %v", state, err)
	}
	if got := relayed(t, s); len(got) != 0 || p.captures.Load() != 0 {
		t.Fatalf("events %v, %d captures: nothing should be charged", got, p.captures.Load())
	}
}

// An order cancelled while its payment is being taken: the capture finds the
// cancellation recorded first, and gives the money back at once.
func TestAPaymentTakenWhileCancelledIsGivenBack(t *testing.T) {
	_, s, p := setup(t)
	store := &racing{Store: s, race: func() {
		if ok, err := s.Record(t.Context(), payment.Payment{OrderID: "o1", UserName: "alice", State: payment.StateCancelled}, ""); !ok || err != nil {
			t.Fatalf("the racing cancellation: %v, %v", ok, err)
		}
	}}
	state, err := app.New(store, p).Take(t.Context(), app.TakePayment{OrderID: "o1", UserName: "alice", Amount: 100, Method: "invoice"})
	if err != nil || state != payment.StateRefunded || p.captures.Load() != 1 || p.refunds.Load() != 1 {
		t.Fatalf("Take = %v, %v after %d captures and %d refunds; want it refunded once", state, err, p.captures.Load(), p.refunds.Load())
	}
	if got := relayed(t, s); len(got) != 1 || got[0] != events.TypePaymentRefunded {
		t.Fatalf("events %v; want PaymentRefunded", got)
	}
}

// A cancellation that finds no payment, while one is being recorded: it
// looks again, and refunds the payment it then finds.
func TestACancellationThatLosesToAPaymentRefundsIt(t *testing.T) {
	a, s, p := setup(t)
	store := &racing{Store: s, race: func() {
		if state, err := a.Take(t.Context(), app.TakePayment{OrderID: "o1", UserName: "alice", Amount: 100, Method: "invoice"}); state != payment.StateCaptured || err != nil {
			t.Fatalf("the racing payment: %v, %v", state, err)
		}
	}}
	state, err := app.New(store, p).Cancel(t.Context(), "alice", "o1")
	if err != nil || state != payment.StateRefunded || p.refunds.Load() != 1 {
		t.Fatalf("Cancel = %v, %v after %d refunds; want the payment refunded", state, err, p.refunds.Load())
	}
	if got := relayed(t, s); len(got) != 2 || got[0] != events.TypePaymentCaptured || got[1] != events.TypePaymentRefunded {
		t.Fatalf("events %v; want PaymentCaptured, then PaymentRefunded", got)
	}
}
