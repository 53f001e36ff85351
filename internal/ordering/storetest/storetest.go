// Package storetest is the contract every ordering.Store adapter passes.
package storetest

import (
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/eventshop/eventshop/internal/ordering"
	"github.com/eventshop/eventshop/internal/page"
)

// Run runs the contract against stores made by newStore.
func Run(t *testing.T, newStore func(t *testing.T) ordering.Store) {
	t.Run("CreateGet", func(t *testing.T) { t.Parallel(); testCreateGet(t, newStore(t)) })
	t.Run("NotFound", func(t *testing.T) { t.Parallel(); testNotFound(t, newStore(t)) })
	t.Run("CreateIsConditional", func(t *testing.T) { t.Parallel(); testConditional(t, newStore(t)) })
	t.Run("ConcurrentCreatesOneWins", func(t *testing.T) { t.Parallel(); testConcurrent(t, newStore(t)) })
	t.Run("NewestFirstPagination", func(t *testing.T) { t.Parallel(); testPagination(t, newStore(t)) })
	t.Run("ListByStatus", func(t *testing.T) { t.Parallel(); testListByStatus(t, newStore(t)) })
	t.Run("UpdateVersions", func(t *testing.T) { t.Parallel(); testUpdate(t, newStore(t)) })
	t.Run("ConcurrentUpdatesOneWins", func(t *testing.T) { t.Parallel(); testConcurrentUpdates(t, newStore(t)) })
}

func order(user string) ordering.Order {
	id, err := uuid.NewV7()
	if err != nil {
		panic(err)
	}
	return ordering.Order{
		OrderID: id.String(), UserName: user, Status: ordering.StatusPlaced,
		Lines:      []ordering.Line{{ProductID: "p1", ProductName: "Widget", Color: "red", Quantity: 3, UnitPrice: 1999, LineTotal: 5997}},
		TotalPrice: 5997, FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com", Address: "1 Street", PaymentMethod: "invoice",
		OrderDate: time.Now().UTC().Truncate(time.Millisecond),
		History:   []ordering.Change{{Status: ordering.StatusPlaced, At: time.Now().UTC().Truncate(time.Millisecond)}},
		Version:   1,
	}
}

func testCreateGet(t *testing.T, s ordering.Store) {
	ctx := t.Context()
	o := order("alice")
	if err := s.Create(ctx, o); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "alice", o.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, o) {
		t.Fatalf("Get = %+v, want %+v", got, o)
	}
}

func testNotFound(t *testing.T, s ordering.Store) {
	ctx := t.Context()
	o := order("alice")
	if err := s.Create(ctx, o); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "bob", o.OrderID); !errors.Is(err, ordering.ErrNotFound) {
		t.Errorf("another user's order: %v, want ErrNotFound", err)
	}
	if _, err := s.Get(ctx, "alice", uuid.NewString()); !errors.Is(err, ordering.ErrNotFound) {
		t.Errorf("missing order: %v, want ErrNotFound", err)
	}
}

func testConditional(t *testing.T, s ordering.Store) {
	ctx := t.Context()
	o := order("alice")
	if err := s.Create(ctx, o); err != nil {
		t.Fatal(err)
	}
	dup := o
	dup.TotalPrice = 1
	if err := s.Create(ctx, dup); !errors.Is(err, ordering.ErrExists) {
		t.Fatalf("second Create: %v, want ErrExists", err)
	}
	if got, _ := s.Get(ctx, "alice", o.OrderID); got.TotalPrice != o.TotalPrice {
		t.Fatal("second Create overwrote the order")
	}
}

func testConcurrent(t *testing.T, s ordering.Store) {
	ctx := t.Context()
	o := order("alice")
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
		errs []error
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Create(ctx, o)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, ordering.ErrExists):
				errs = append(errs, err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || len(errs) > 0 {
		t.Fatalf("%d creates won, errors %v; want exactly one", wins, errs)
	}
}

func testPagination(t *testing.T, s ordering.Store) {
	ctx := t.Context()
	var want []string
	for i := range 5 {
		o := order("alice")
		if err := s.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
		want = append([]string{o.OrderID}, want...) // newest first
		if i%2 == 0 {
			if err := s.Create(ctx, order("bob")); err != nil {
				t.Fatal(err)
			}
		}
	}
	var got []string
	req := page.Request{Limit: 2}
	for range 10 {
		res, err := s.ListByUser(ctx, "alice", req)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Items) > 2 {
			t.Fatalf("page of %d exceeds limit 2", len(res.Items))
		}
		for _, o := range res.Items {
			if o.UserName != "alice" {
				t.Fatalf("alice's list holds %s's order", o.UserName)
			}
			got = append(got, o.OrderID)
		}
		if res.NextToken == "" {
			break
		}
		req.Token = res.NextToken
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ListByUser = %v, want newest first %v", got, want)
	}
	if _, err := s.ListByUser(ctx, "alice", page.Request{Limit: 2, Token: "!"}); err == nil {
		t.Fatal("ListByUser accepted a malformed token")
	}
}

// testListByStatus lists every user's orders, all of them and those in one
// status, newest first in pages of 2, and sees an order move between
// statuses.
func testListByStatus(t *testing.T, s ordering.Store) {
	ctx := t.Context()
	var all, paid []string // newest first
	for i := range 9 {
		o := order([]string{"alice", "bob", "carol"}[i%3])
		if err := s.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
		if i%3 != 1 {
			for _, status := range []string{ordering.StatusReserved, ordering.StatusPaid} {
				o = next(t, o, status, "")
				if err := s.Update(ctx, o); err != nil {
					t.Fatal(err)
				}
			}
			paid = append([]string{o.OrderID}, paid...)
		}
		all = append([]string{o.OrderID}, all...)
	}
	list := func(status string) []string {
		var ids []string
		req := page.Request{Limit: 2}
		for range 10 {
			res, err := s.List(ctx, status, req)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Items) > 2 {
				t.Fatalf("page of %d exceeds limit 2", len(res.Items))
			}
			for _, o := range res.Items {
				if status != "" && o.Status != status {
					t.Fatalf("List(%s) holds order %s in %s", status, o.OrderID, o.Status)
				}
				ids = append(ids, o.OrderID)
			}
			if res.NextToken == "" {
				return ids
			}
			req.Token = res.NextToken
		}
		t.Fatalf("List(%q) did not end in 10 pages: %v", status, ids)
		return nil
	}
	if got := list(""); !reflect.DeepEqual(got, all) {
		t.Fatalf("List = %v, want newest first %v", got, all)
	}
	if got := list(ordering.StatusPaid); !reflect.DeepEqual(got, paid) {
		t.Fatalf("List(PAID) = %v, want newest first %v", got, paid)
	}
	if got := list(ordering.StatusShipped); len(got) != 0 {
		t.Fatalf("List(SHIPPED) = %v, want none", got)
	}
	shipped, err := s.Get(ctx, "alice", paid[len(paid)-1])
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, next(t, shipped, ordering.StatusShipped, "")); err != nil {
		t.Fatal(err)
	}
	if got := list(ordering.StatusPaid); !reflect.DeepEqual(got, paid[:len(paid)-1]) {
		t.Fatalf("List(PAID) after shipping %s = %v, want %v", shipped.OrderID, got, paid[:len(paid)-1])
	}
	if got := list(ordering.StatusShipped); !reflect.DeepEqual(got, []string{shipped.OrderID}) {
		t.Fatalf("List(SHIPPED) = %v, want [%s]", got, shipped.OrderID)
	}
	if _, err := s.List(ctx, "", page.Request{Limit: 2, Token: "!"}); err == nil {
		t.Fatal("List accepted a malformed token")
	}
}

// next returns o moved to status at its next version.
func next(t *testing.T, o ordering.Order, status, reason string) ordering.Order {
	t.Helper()
	c, err := ordering.Transition(o.Status, status, reason, time.Now().UTC().Truncate(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	o.Status, o.CancelReason, o.Version = status, reason, o.Version+1
	o.History = append(append([]ordering.Change(nil), o.History...), c)
	return o
}

func testUpdate(t *testing.T, s ordering.Store) {
	ctx := t.Context()
	o := order("alice")
	if err := s.Update(ctx, next(t, o, ordering.StatusReserved, "")); !errors.Is(err, ordering.ErrNotFound) {
		t.Fatalf("update of a missing order: %v", err)
	}
	if err := s.Create(ctx, o); err != nil {
		t.Fatal(err)
	}
	reserved := next(t, o, ordering.StatusReserved, "")
	if err := s.Update(ctx, reserved); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, next(t, o, ordering.StatusCancelled, ordering.ReasonOutOfStock)); !errors.Is(err, ordering.ErrVersionConflict) {
		t.Fatalf("update from a stale version: %v", err)
	}
	cancelled := next(t, reserved, ordering.StatusCancelled, ordering.ReasonCustomerCancelled)
	cancelled.Lines = slices.Clone(cancelled.Lines)
	cancelled.Lines[0].Unavailable = true // a line whose stock could not be held is stored as such
	if err := s.Update(ctx, cancelled); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "alice", o.OrderID)
	if err != nil || !reflect.DeepEqual(got, cancelled) {
		t.Fatalf("Get = %+v, %v\nwant %+v", got, err, cancelled)
	}
}

func testConcurrentUpdates(t *testing.T, s ordering.Store) {
	ctx := t.Context()
	o := order("alice")
	if err := s.Create(ctx, o); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			errs[i] = s.Update(ctx, next(t, o, ordering.StatusCancelled, ordering.ReasonCustomerCancelled))
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, ordering.ErrVersionConflict):
			t.Fatalf("update: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d updates won, want 1", won)
	}
}
