// Package app holds the ordering service's use cases: placing an order from a
// checkout exactly once (place.go), moving it through its life (outcome.go,
// cancel.go, ship.go), and reading orders.
package app

import (
	"context"
	"errors"
	"time"

	"github.com/eventshop/eventshop/internal/ordering"
	"github.com/eventshop/eventshop/internal/page"
	"github.com/eventshop/eventshop/internal/validation"
)

// Orders runs the ordering use cases.
type Orders struct {
	store ordering.Store
	now   func() time.Time
}

// New returns the use cases over store.
func New(store ordering.Store) *Orders { return &Orders{store: store, now: time.Now} }

// Get returns one of userName's orders.
func (o *Orders) Get(ctx context.Context, userName, orderID string) (ordering.Order, error) {
	if err := validation.First(validation.UserName("userName", userName), validation.ID("orderId", orderID)); err != nil {
		return ordering.Order{}, err
	}
	return o.store.Get(ctx, userName, orderID)
}

// MaxWait bounds how long Await waits for an order: well inside the API
// functions' 10 s timeout.
const MaxWait = 5 * time.Second

// pollEvery is how often Await reads a store that cannot say when an order
// arrives (DynamoDB).
const pollEvery = 50 * time.Millisecond

// Await is Get for a client that has just checked out and asks to wait for
// its order (Prefer: wait): an order not placed yet is waited for, up to
// wait (at most MaxWait), and returned as soon as it is stored: handed
// over by a store that sees it arrive (ordering.Store.Arrival), read every
// pollEvery from one that cannot.
func (o *Orders) Await(ctx context.Context, userName, orderID string, wait time.Duration) (ordering.Order, error) {
	var created <-chan ordering.Order
	if wait > 0 {
		var stop func()
		created, stop = o.store.Arrival(userName, orderID) // before the read, so that no creation falls between
		defer stop()
	}
	ord, err := o.Get(ctx, userName, orderID)
	if wait <= 0 || !errors.Is(err, ordering.ErrNotFound) {
		return ord, err
	}
	deadline := time.NewTimer(min(wait, MaxWait))
	defer deadline.Stop()
	for {
		var tick <-chan time.Time
		if created == nil {
			tick = time.After(pollEvery)
		}
		select {
		case placed := <-created:
			return placed, nil
		case <-tick:
		case <-deadline.C:
			return ord, err
		case <-ctx.Done():
			return ordering.Order{}, ctx.Err()
		}
		if ord, err = o.Get(ctx, userName, orderID); !errors.Is(err, ordering.ErrNotFound) {
			return ord, err
		}
	}
}

// ListByUser pages through userName's orders, newest first.
func (o *Orders) ListByUser(ctx context.Context, userName string, req page.Request) (page.Of[ordering.Order], error) {
	if err := validation.UserName("userName", userName); err != nil {
		return page.Of[ordering.Order]{}, err
	}
	return o.store.ListByUser(ctx, userName, req)
}

// List pages through every order, or every order in status if status is
// not "", newest first.
func (o *Orders) List(ctx context.Context, status string, req page.Request) (page.Of[ordering.Order], error) {
	if status != "" {
		if err := validation.OneOf("status", status, ordering.Statuses); err != nil {
			return page.Of[ordering.Order]{}, err
		}
	}
	return o.store.List(ctx, status, req)
}
