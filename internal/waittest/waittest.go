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
	deadline := time.Now().Add(Timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", Timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
