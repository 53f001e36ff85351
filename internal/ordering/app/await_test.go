package app_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventshop/eventshop/internal/ordering"
	"github.com/eventshop/eventshop/internal/ordering/app"
	"github.com/eventshop/eventshop/internal/ordering/sqlite"
	"github.com/eventshop/eventshop/internal/validation"
	"github.com/eventshop/eventshop/internal/waittest"
)

// withoutArrivals hides the local store's Arrival: a store that cannot say
// when an order arrives, as the DynamoDB store cannot.
type withoutArrivals struct{ ordering.Store }

func (withoutArrivals) Arrival(string, string) (<-chan ordering.Order, func()) { return nil, func() {} }

// counted is a store that counts its reads of one order and still says when
// an order arrives.
type counted struct {
	*sqlite.Store
	gets atomic.Int32
}

func (c *counted) Get(ctx context.Context, userName, orderID string) (ordering.Order, error) {
	defer c.gets.Add(1)
	return c.Store.Get(ctx, userName, orderID)
}

type awaited struct {
	order ordering.Order
	err   error
	took  time.Duration
}

// await runs a.Await on its own goroutine.
func await(ctx context.Context, a *app.Orders, userName, orderID string, wait time.Duration) <-chan awaited {
	got := make(chan awaited, 1)
	go func() {
		start := time.Now()
		o, err := a.Await(ctx, userName, orderID, wait)
		got <- awaited{o, err, time.Since(start)}
	}()
	return got
}

func TestAwaitReturnsTheOrderOnceItIsPlaced(t *testing.T) {
	for _, c := range []struct {
		name  string
		store func(*counted) ordering.Store
		reads int32 // at most, for the order placed after the first read
	}{
		{"told by the store", func(s *counted) ordering.Store { return s }, 1},
		{"polling a store that cannot tell", func(s *counted) ordering.Store { return withoutArrivals{s} }, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "ordering.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			store := &counted{Store: s}
			a, cmd := app.New(c.store(store)), command()
			got := await(t.Context(), a, cmd.UserName, cmd.CheckoutID, 5*time.Second)
			waittest.For(t, "Await's first read", func() bool { return store.gets.Load() > 0 })
			select {
			case r := <-got:
				t.Fatalf("Await returned %+v before the order was placed", r)
			default:
			}
			if _, err := a.Place(t.Context(), cmd); err != nil {
				t.Fatal(err)
			}
			r := <-got
			if r.err != nil || r.order.OrderID != cmd.CheckoutID || r.order.Status != ordering.StatusPlaced {
				t.Fatalf("Await after the order was placed: %+v, %v", r.order, r.err)
			}
			// A store that says when the order arrives is read once: the
			// order is handed over, not polled for.
			if n := store.gets.Load(); c.reads > 0 && n > c.reads {
				t.Fatalf("Await read the order %d times; want %d", n, c.reads)
			}
		})
	}
}

// Another user's order with the same id does not end the wait: the reader
// gets 404 when its wait is over, as without waiting.
func TestAwaitEndsWithNotFound(t *testing.T) {
	a := setup(t)
	cmd := command()
	const wait = 200 * time.Millisecond
	got := await(t.Context(), a, "bob", cmd.CheckoutID, wait)
	if _, err := a.Place(t.Context(), cmd); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if !errors.Is(r.err, ordering.ErrNotFound) || r.took < wait {
		t.Fatalf("Await of bob's order %s, placed for ada: %v after %v; want not found after %v", cmd.CheckoutID, r.err, r.took, wait)
	}
}

func TestAwaitValidatesAndStopsWithItsRequest(t *testing.T) {
	a := setup(t)
	var verr *validation.Error
	if _, err := a.Await(t.Context(), "ada", "o/1", time.Hour); !errors.As(err, &verr) || verr.Field != "orderId" {
		t.Errorf("Await with a bad order id: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	got := await(ctx, a, "ada", command().CheckoutID, time.Hour)
	cancel()
	if r := <-got; !errors.Is(r.err, context.Canceled) {
		t.Errorf("Await whose request ended: %v", r.err)
	}
}
