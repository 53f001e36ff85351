package sqlite

import (
	"slices"
	"sync"

	"github.com/eventshop/eventshop/internal/ordering"
)

// arrivals hands readers waiting for an order (Store.Arrival) the order once
// it is created: each reader has a channel of its own, to which the Create
// that committed the order sends it.
type arrivals struct {
	mu      sync.Mutex
	waiting map[orderKey][]chan ordering.Order
}

type orderKey struct{ userName, orderID string }

func (a *arrivals) await(userName, orderID string) (<-chan ordering.Order, func()) {
	k := orderKey{userName, orderID}
	c := make(chan ordering.Order, 1)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.waiting == nil {
		a.waiting = map[orderKey][]chan ordering.Order{}
	}
	a.waiting[k] = append(a.waiting[k], c)
	return c, func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		readers := slices.DeleteFunc(a.waiting[k], func(r chan ordering.Order) bool { return r == c })
		if len(readers) == 0 {
			delete(a.waiting, k)
		} else {
			a.waiting[k] = readers
		}
	}
}

// created hands o to the readers waiting for it, if any, and reports
// whether any waited.
func (a *arrivals) created(o ordering.Order) bool {
	k := orderKey{o.UserName, o.OrderID}
	a.mu.Lock()
	defer a.mu.Unlock()
	readers := a.waiting[k]
	for _, c := range readers {
		c <- o // never blocks: each reader's channel holds one order, and gets one
	}
	delete(a.waiting, k)
	return len(readers) > 0
}
