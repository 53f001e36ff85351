package httpapi

import (
	"sync"

	"github.com/eventshop/eventshop/internal/catalog"
	"github.com/eventshop/eventshop/internal/rest"
)

// bodiesMax bounds the encoded products kept: enough for the products most
// read, a few hundred KB at most.
const bodiesMax = 1_000

// bodies keeps the response body of each product last read, so that a read of
// a product that has not changed since is answered without encoding it again
// (encoding was a sixth of a product read's CPU under load). A body is used
// only for the very product it encodes: the product read is compared whole
// with the one encoded, so a change to any field encodes afresh.
type bodies struct {
	mu sync.RWMutex
	m  map[string]body
}

type body struct {
	p catalog.Product
	b []byte
}

// of returns p's response body.
func (c *bodies) of(p catalog.Product) ([]byte, error) {
	c.mu.RLock()
	e, ok := c.m[p.ID]
	c.mu.RUnlock()
	if ok && e.p == p {
		return e.b, nil
	}
	b, err := rest.Encode(productOf(p))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= bodiesMax {
		c.m = make(map[string]body)
	}
	c.m[p.ID] = body{p, b}
	c.mu.Unlock()
	return b, nil
}
