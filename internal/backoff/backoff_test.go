package backoff

import (
	"context"
	"testing"
	"time"
)

func TestStepsDoubleUpToMax(t *testing.T) {
	p := Policy{First: time.Second, Max: 16 * time.Second}
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 5: 16 * time.Second, 9: 16 * time.Second} {
		if got := p.Step(n); got != want {
			t.Errorf("Step(%d) = %v, want %v", n, got, want)
		}
	}
	for range 1000 {
		if d := p.Delay(3); d < 0 || d > 4*time.Second {
			t.Fatalf("Delay(3) = %v, outside [0, 4s]", d)
		}
	}
}

func TestDelaysSpreadOut(t *testing.T) {
	p := Policy{First: time.Second, Max: time.Second}
	seen := map[time.Duration]bool{}
	for range 100 {
		seen[p.Delay(1)] = true
	}
	if len(seen) < 50 {
		t.Fatalf("%d distinct delays in 100: not jittered", len(seen))
	}
}

func TestSleepEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (Policy{First: time.Hour, Max: time.Hour}).Sleep(ctx, 1); err == nil {
		t.Fatal("Sleep outlived its context")
	}
	if err := (Policy{First: time.Millisecond, Max: time.Millisecond}).Sleep(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
}

// A delay may be anything from 0 to the step, both included.
func TestDelaysReachBothEnds(t *testing.T) {
	p := Policy{First: time.Nanosecond, Max: time.Nanosecond}
	seen := map[time.Duration]bool{}
	for range 200 {
		seen[p.Delay(1)] = true
	}
	if !seen[0] || !seen[time.Nanosecond] || len(seen) != 2 {
		t.Fatalf("delays of a 1ns step: %v, want 0 and 1ns", seen)
	}
}
