// Package app holds the payment service's use cases: take the payment of an
// order whose stock is reserved, and give it back when the order is
// cancelled. Every step is idempotent: the provider's calls by their keys,
// the store's writes by the state they expect.
package app

import (
	"context"
	"time"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/payment"
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
	cur, err := a.store.Get(ctx, p.OrderID)
	return cur.State, err
}
