package expiring_test

import (
	"testing"
	"time"

	"github.com/eventshop/eventshop/internal/expiring"
)

func TestEntriesExpireAndAreDropped(t *testing.T) {
	m := expiring.New[string, int](10)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m.Put("a", 1, now.Add(time.Second))
	if v, ok := m.Get("a", now); !ok || v != 1 {
		t.Fatalf("Get before expiry = %d, %v", v, ok)
	}
	if _, ok := m.Get("a", now.Add(time.Second)); ok {
		t.Fatal("an entry was still there at its expiry")
	}
	m.Put("b", 2, now.Add(time.Hour))
	m.Delete("b")
	if _, ok := m.Get("b", now); ok {
		t.Fatal("a deleted entry was still there")
	}
}

func TestAFullMapStartsAfresh(t *testing.T) {
	m := expiring.New[int, int](2)
	later := time.Now().Add(time.Hour)
	m.Put(1, 1, later)
	m.Put(2, 2, later)
	m.Put(2, 20, later) // a key it holds: not a new entry
	if v, ok := m.Get(2, time.Now()); !ok || v != 20 {
		t.Fatalf("Get(2) = %d, %v; want the value put last", v, ok)
	}
	if _, ok := m.Get(1, time.Now()); !ok {
		t.Fatal("replacing an entry emptied the map")
	}
	m.Put(3, 3, later)
	if _, ok := m.Get(1, time.Now()); ok {
		t.Fatal("a full map kept its old entries past its bound")
	}
	if v, ok := m.Get(3, time.Now()); !ok || v != 3 {
		t.Fatalf("Get(3) = %d, %v after the map started afresh", v, ok)
	}
}
