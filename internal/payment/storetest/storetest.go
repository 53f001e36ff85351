// Package storetest is the contract every payment.Store passes.
package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/eventshop/eventshop/internal/payment"
)

// Run runs the contract against stores newStore makes.
func Run(t *testing.T, newStore func(t *testing.T) payment.Store) {
	t.Run("RecordByState", func(t *testing.T) { t.Parallel(); testRecord(t, newStore(t)) })
	t.Run("ConcurrentRecordsOneWins", func(t *testing.T) { t.Parallel(); testConcurrent(t, newStore(t)) })
}

func testRecord(t *testing.T, s payment.Store) {
	ctx := t.Context()
	if _, err := s.Get(ctx, "o1"); !errors.Is(err, payment.ErrNotFound) {
		t.Fatalf("Get of no payment: %v, want ErrNotFound", err)
	}
	p := payment.Payment{OrderID: "o1", UserName: "alice", State: payment.StateCaptured, Amount: 1999, CaptureID: "c1"}
	if ok, err := s.Record(ctx, p, ""); !ok || err != nil {
		t.Fatalf("first record: %v, %v", ok, err)
	}
	if ok, err := s.Record(ctx, p, ""); ok || err != nil {
		t.Fatalf("record over an existing payment: %v, %v; want false", ok, err)
	}
	refunded := p
	refunded.State, refunded.RefundID = payment.StateRefunded, "r1"
	if ok, err := s.Record(ctx, refunded, payment.StateDeclined); ok || err != nil {
		t.Fatalf("record from the wrong state: %v, %v; want false", ok, err)
	}
	if ok, err := s.Record(ctx, refunded, payment.StateCaptured); !ok || err != nil {
		t.Fatalf("refund: %v, %v", ok, err)
	}
	got, err := s.Get(ctx, "o1")
	if err != nil || got != refunded {
		t.Fatalf("Get = %+v, %v; want %+v", got, err, refunded)
	}
}

func testConcurrent(t *testing.T, s payment.Store) {
	ctx := t.Context()
	var wg sync.WaitGroup
	won := make([]bool, 8)
	for i := range won {
		wg.Go(func() {
			ok, err := s.Record(ctx, payment.Payment{OrderID: "o1", UserName: "u", State: payment.StateCaptured, CaptureID: fmt.Sprint(i)}, "")
			if err != nil {
				t.Error(err)
			}
			won[i] = ok
		})
	}
	wg.Wait()
	n := 0
	for _, w := range won {
		if w {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d records won, want 1", n)
	}
}
