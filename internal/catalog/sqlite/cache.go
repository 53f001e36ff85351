package sqlite

import "sync"

// readCache keeps what reads returned, until the next write: this process is
// the catalog database's only writer (the data dir is locked), and writes
// are rare beside reads. It holds values weighing up to max in all (weight
// says what each weighs); once full, it starts afresh.
type readCache[K comparable, V any] struct {
	max    int
	weight func(V) int

	mu   sync.RWMutex
	gen  uint64 // counts writes, so that a read that raced one keeps nothing
	m    map[K]V
	held int // the weight of what m holds
}

// get returns k's value if the cache holds one, and the generation to give
// put with what the read that follows a miss returns.
func (c *readCache[K, V]) get(k K) (v V, gen uint64, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok = c.m[k]
	return v, c.gen, ok
}

// put keeps v for k, unless a write came since get returned gen.
func (c *readCache[K, V]) put(gen uint64, k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	w := c.weight(v)
	if c.m == nil || c.held+w > c.max {
		c.m, c.held = map[K]V{}, 0
	}
	c.m[k] = v
	c.held += w
}

// forget drops everything: a write has changed what the reads returned.
func (c *readCache[K, V]) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.m, c.held = nil, 0
}
