package sqlite

import "testing"

// A read's result is kept until a write, never when a write came between the
// read's miss and its put, and the cache holds no more than its max weight.
func TestReadCacheKeepsWhatNoWriteRaced(t *testing.T) {
	c := &readCache[string, []int]{max: 5, weight: func(v []int) int { return len(v) }}
	_, gen, ok := c.get("a")
	if ok {
		t.Fatal("an empty cache held a")
	}
	c.put(gen, "a", []int{1})
	if v, _, ok := c.get("a"); !ok || v[0] != 1 {
		t.Fatalf("get(a) after put = %v, %v", v, ok)
	}

	_, gen, _ = c.get("b") // a read misses b, then a write commits
	c.forget()
	if _, _, ok := c.get("a"); ok {
		t.Error("a was still held after a write")
	}
	c.put(gen, "b", []int{2}) // what the read returned may be older than the write
	if _, _, ok := c.get("b"); ok {
		t.Error("b, read before a write and put after it, was kept")
	}

	_, gen, _ = c.get("c")
	c.put(gen, "c", []int{1, 2, 3})
	c.put(gen, "d", []int{4, 5})
	if _, _, ok := c.get("c"); !ok || c.held != 5 {
		t.Fatalf("c and d (weight 5 of 5): c held %v, weight held %d", ok, c.held)
	}
	c.put(gen, "e", []int{6}) // over max: the cache starts afresh
	if _, _, ok := c.get("c"); ok || c.held != 1 {
		t.Errorf("after e (over the max): c held %v, weight held %d; want only e", ok, c.held)
	}
}
