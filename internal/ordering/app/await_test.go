package app_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/eventshop/eventshop/internal/ordering"
	"github.com/eventshop/eventshop/internal/ordering/app"
	"github.com/eventshop/eventshop/internal/ordering/sqlite"
	"github.com/eventshop/eventshop/internal/validation"
)

// withoutArrivals hides the local store's Arrival: a store that cannot say
// when an order arrives, as the DynamoDB store cannot.
type withoutArrivals struct{ ordering.Store }

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
		store func(*sqlite.Store) ordering.Store
	}{
		{"told by the store", func(s *sqlite.Store) ordering.Store { return s }},
		{"polling a store that cannot tell", func(s *sqlite.Store) ordering.Store { return withoutArrivals{s} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "ordering.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			a, cmd := app.New(c.store(s)), command()
			got := await(t.Context(), a, cmd.UserName, cmd.CheckoutID, 5*time.Second)
			select {
			case r := <-got:
				t.Fatalf("Await returned %+v before the order was placed", r)
			case <-time.After(50 * time.Millisecond):
			}
			if _, err := a.Place(t.Context(), cmd); err != nil {
				t.Fatal(err)
			}
			r := <-got
			if r.err != nil || r.order.OrderID != cmd.CheckoutID || r.order.Status != ordering.StatusPlaced {
				t.Fatalf("Await after the order was placed: %+v, %v", r.order, r.err)
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
