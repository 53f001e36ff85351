// Package backoff spaces out retries: each wait is a random time up to a step
// that doubles from First to Max ("full jitter"), so that clients that failed
// together do not retry together.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Policy is a retry schedule.
type Policy struct {
	First time.Duration // the step before the first retry
	Max   time.Duration // the largest step
}

// Step is the longest wait before retry n (from 1).
func (p Policy) Step(n int) time.Duration {
	step := p.First
	for i := 1; i < n && step < p.Max; i++ {
		step *= 2
	}
	return min(step, p.Max)
}

// Delay is a random wait before retry n, from 0 to Step(n).
func (p Policy) Delay(n int) time.Duration {
	return time.Duration(rand.Int64N(int64(p.Step(n)) + 1))
}

// Sleep waits Delay(n), or returns ctx's error if it ends first.
func (p Policy) Sleep(ctx context.Context, n int) error {
	t := time.NewTimer(p.Delay(n))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
