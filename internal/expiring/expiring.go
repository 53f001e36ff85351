// Package expiring is a bounded in-memory map whose entries expire: what a
// process keeps of answers it may give again for a while without asking
// (tokens it verified, prices it read).
package expiring

import (
	"sync"
	"time"
)

// Map holds up to max entries; once full, the next Put starts it afresh (the
// entries are cheap to get again, and a full map is rare). Safe for
// concurrent use.
type Map[K comparable, V any] struct {
	mu      sync.Mutex
	max     int
	entries map[K]entry[V]
}

type entry[V any] struct {
	v       V
	expires time.Time
}

// New returns an empty map that holds up to max entries.
func New[K comparable, V any](max int) *Map[K, V] {
	return &Map[K, V]{max: max, entries: map[K]entry[V]{}}
}

// Get returns k's value if the map holds one that has not expired at now.
func (m *Map[K, V]) Get(k K, now time.Time) (V, bool) {
	m.mu.Lock()
	e, ok := m.entries[k]
	m.mu.Unlock()
	if !ok || !now.Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Put keeps v for k until expires.
func (m *Map[K, V]) Put(k K, v V, expires time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.entries[k]; !ok && len(m.entries) >= m.max {
		m.entries = map[K]entry[V]{}
	}
	m.entries[k] = entry[V]{v: v, expires: expires}
}

// Delete drops k's entry.
func (m *Map[K, V]) Delete(k K) {
	m.mu.Lock()
	delete(m.entries, k)
	m.mu.Unlock()
}
