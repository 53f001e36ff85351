// Package storetest is the contract every idempotency.Store passes.
package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/eventshop/eventshop/internal/idempotency"
)

// Run runs the contract against stores newStore makes.
func Run(t *testing.T, newStore func(t *testing.T) idempotency.Store) {
	t.Run("ClaimThenReplay", func(t *testing.T) { t.Parallel(); testClaimThenReplay(t, newStore(t)) })
	t.Run("ScopesAreApart", func(t *testing.T) { t.Parallel(); testScopes(t, newStore(t)) })
	t.Run("ExpiredAndAbandoned", func(t *testing.T) { t.Parallel(); testTakeOver(t, newStore(t)) })
	t.Run("Release", func(t *testing.T) { t.Parallel(); testRelease(t, newStore(t)) })
	t.Run("ConcurrentClaimsOneWins", func(t *testing.T) { t.Parallel(); testConcurrent(t, newStore(t)) })
}

// t0 is a fixed start, so that records are compared exactly.
var t0 = time.Date(2026, 5, 6, 7, 8, 9, 123456789, time.UTC)

func record(scope, key string, started time.Time) idempotency.Record {
	return idempotency.Record{Scope: scope, Key: key, Fingerprint: "fp-" + key, Started: started, Expires: started.Add(idempotency.Retention)}
}

func testClaimThenReplay(t *testing.T, s idempotency.Store) {
	ctx := t.Context()
	r := record("alice POST /x", "k1", t0)
	if _, err := s.Claim(ctx, r, t0.Add(-idempotency.Lease)); err != nil {
		t.Fatalf("first claim: %v", err)
	}
	prev, err := s.Claim(ctx, record("alice POST /x", "k1", t0.Add(time.Second)), t0.Add(time.Second-idempotency.Lease))
	if !errors.Is(err, idempotency.ErrExists) || prev.Done || prev.Fingerprint != r.Fingerprint || !prev.Started.Equal(t0) {
		t.Fatalf("claim while running = %+v, %v; want the unfinished record and ErrExists", prev, err)
	}
	r.Done, r.Status, r.ContentType, r.Location, r.Body = true, 201, "application/json", "/x/1", []byte(`{"id":"1"}`+"\n")
	if err := s.Complete(ctx, r); err != nil {
		t.Fatalf("complete: %v", err)
	}
	prev, err = s.Claim(ctx, record("alice POST /x", "k1", t0.Add(time.Hour)), t0.Add(time.Hour-idempotency.Lease))
	if !errors.Is(err, idempotency.ErrExists) || !prev.Done || prev.Status != 201 || prev.ContentType != r.ContentType || prev.Location != r.Location || string(prev.Body) != string(r.Body) || prev.Expires.Unix() != r.Expires.Unix() { // stores may keep the expiry to the second
		t.Fatalf("claim after completion = %+v, %v; want the response", prev, err)
	}
	stale := r
	stale.Started = t0.Add(-time.Second)
	if err := s.Complete(ctx, stale); !errors.Is(err, idempotency.ErrExists) {
		t.Fatalf("completing someone else's claim: %v, want ErrExists", err)
	}
}

func testScopes(t *testing.T, s idempotency.Store) {
	ctx := t.Context()
	for _, scope := range []string{"alice POST /x", "bob POST /x", "alice POST /y"} {
		if _, err := s.Claim(ctx, record(scope, "same-key", t0), t0.Add(-idempotency.Lease)); err != nil {
			t.Fatalf("claim in %s: %v", scope, err)
		}
	}
}

func testTakeOver(t *testing.T, s idempotency.Store) {
	ctx := t.Context()
	done := record("s", "expired", t0)
	if _, err := s.Claim(ctx, done, t0.Add(-idempotency.Lease)); err != nil {
		t.Fatal(err)
	}
	done.Done, done.Status = true, 201
	if err := s.Complete(ctx, done); err != nil {
		t.Fatal(err)
	}
	later := t0.Add(idempotency.Retention)
	if _, err := s.Claim(ctx, record("s", "expired", later), later.Add(-idempotency.Lease)); err != nil {
		t.Fatalf("claim of an expired key: %v", err)
	}

	if _, err := s.Claim(ctx, record("s", "abandoned", t0), t0.Add(-idempotency.Lease)); err != nil {
		t.Fatal(err)
	}
	soon := t0.Add(idempotency.Lease - time.Second)
	if _, err := s.Claim(ctx, record("s", "abandoned", soon), soon.Add(-idempotency.Lease)); !errors.Is(err, idempotency.ErrExists) {
		t.Fatalf("claim within the lease: %v, want ErrExists", err)
	}
	after := t0.Add(idempotency.Lease + time.Second)
	if _, err := s.Claim(ctx, record("s", "abandoned", after), after.Add(-idempotency.Lease)); err != nil {
		t.Fatalf("claim of an abandoned key: %v", err)
	}
	old := record("s", "abandoned", t0)
	old.Done, old.Status = true, 201
	if err := s.Complete(ctx, old); !errors.Is(err, idempotency.ErrExists) {
		t.Fatalf("the abandoned request completing late: %v, want ErrExists", err)
	}
}

func testRelease(t *testing.T, s idempotency.Store) {
	ctx := t.Context()
	r := record("s", "k", t0)
	if _, err := s.Claim(ctx, r, t0.Add(-idempotency.Lease)); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claim(ctx, record("s", "k", t0.Add(time.Second)), t0.Add(time.Second-idempotency.Lease)); err != nil {
		t.Fatalf("claim after release: %v", err)
	}
	done := record("s", "kept", t0)
	if _, err := s.Claim(ctx, done, t0.Add(-idempotency.Lease)); err != nil {
		t.Fatal(err)
	}
	done.Done, done.Status = true, 200
	if err := s.Complete(ctx, done); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(ctx, done); err != nil {
		t.Fatal(err)
	}
	if prev, err := s.Claim(ctx, record("s", "kept", t0.Add(time.Second)), t0); !errors.Is(err, idempotency.ErrExists) || !prev.Done {
		t.Fatalf("a completed record was released: %+v, %v", prev, err)
	}
}

func testConcurrent(t *testing.T, s idempotency.Store) {
	ctx := t.Context()
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			r := record("s", "race", t0.Add(time.Duration(i)))
			r.Fingerprint = fmt.Sprint(i)
			_, errs[i] = s.Claim(ctx, r, t0.Add(-idempotency.Lease))
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, idempotency.ErrExists):
			t.Fatalf("claim: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d claims won, want 1", won)
	}
}
