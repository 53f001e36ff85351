package sqlite

import "sync"

// arrivals tells readers waiting for an order (Store.Arrival) that it was
// created: one channel per awaited order, closed by the Create that
// committed it.
type arrivals struct {
	mu      sync.Mutex
	waiting map[orderKey]*arrival
}

type orderKey struct{ userName, orderID string }

type arrival struct {
	created chan struct{}
	readers int
}

func (a *arrivals) await(userName, orderID string) (<-chan struct{}, func()) {
	k := orderKey{userName, orderID}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.waiting == nil {
		a.waiting = map[orderKey]*arrival{}
	}
	w := a.waiting[k]
	if w == nil {
		w = &arrival{created: make(chan struct{})}
		a.waiting[k] = w
	}
	w.readers++
	return w.created, func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		if w.readers--; w.readers == 0 && a.waiting[k] == w {
			delete(a.waiting, k)
		}
	}
}

// created tells the readers of userName's order orderID, if any, that it
// was created, and reports whether any waited.
func (a *arrivals) created(userName, orderID string) bool {
	k := orderKey{userName, orderID}
	a.mu.Lock()
	defer a.mu.Unlock()
	w := a.waiting[k]
	if w != nil {
		close(w.created)
		delete(a.waiting, k)
	}
	return w != nil
}
