// Package waittest waits in tests for something that happens asynchronously,
// such as an event reaching its consumer.
package waittest

import (
	"testing"
	"time"
)

// Timeout is how long For waits: far longer than any step of the shop takes,
// so that only a lost event or a hang fails a test, never a slow machine.
const Timeout = 20 * time.Second

// For polls cond until it holds, and fails t naming what it waited for when
// Timeout passes first.
func For(t testing.TB, what string, cond func() bool) {
	t.Helper()
	Within(t, Timeout, what, cond)
}

// Within is For with a timeout of its own, for waits on many steps at once
// (a stampede of orders under the race detector on a busy machine).
func Within(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
