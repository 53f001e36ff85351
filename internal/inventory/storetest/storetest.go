// Package storetest is the contract every inventory.Store passes.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/inventory"
	"github.com/eventshop/eventshop/internal/kind"
)

// Adapter is what the contract needs of an adapter.
type Adapter struct {
	// New returns an empty store.
	New func(t *testing.T) inventory.Store
	// Dying returns a store on s's data whose process dies at its nth call
	// to the database (from 1): that call is made and its answer lost, and
	// every later call fails without being made; with n 0 the first call
	// fails unmade. A store whose every operation is one call (a local
	// transaction) dies before it (n 0) or after it (n 1).
	Dying func(t *testing.T, s inventory.Store, n int) inventory.Store
	// Contended returns a store on s's data whose single-item writes meet
	// a transaction in flight, as DynamoDB answers them: the next few
	// (fewer than the store waits out) or, if always, every one. nil
	// declares that the adapter's writes never meet one: they take the
	// database's one write lock in turn (SQLite).
	Contended func(t *testing.T, s inventory.Store, always bool) inventory.Store
}

// Run runs the contract against stores a makes.
func Run(t *testing.T, a Adapter) {
	newStore := a.New
	t.Run("Announce", func(t *testing.T) { t.Parallel(); testAnnounce(t, newStore(t)) })
	t.Run("SetAvailable", func(t *testing.T) { t.Parallel(); testSetAvailable(t, newStore(t)) })
	t.Run("Adjust", func(t *testing.T) { t.Parallel(); testAdjust(t, newStore(t)) })
	t.Run("VersionCountsEveryChange", func(t *testing.T) { t.Parallel(); testVersions(t, newStore(t)) })
	t.Run("ReserveAllOrNothing", func(t *testing.T) { t.Parallel(); testReserve(t, newStore(t)) })
	t.Run("ReserveIsIdempotent", func(t *testing.T) { t.Parallel(); testReserveTwice(t, newStore(t)) })
	t.Run("Release", func(t *testing.T) { t.Parallel(); testRelease(t, newStore(t)) })
	t.Run("ReleaseBeforeReserve", func(t *testing.T) { t.Parallel(); testReleaseFirst(t, newStore(t)) })
	t.Run("NoOverselling", func(t *testing.T) { t.Parallel(); testNoOverselling(t, newStore(t)) })
	t.Run("CommitSells", func(t *testing.T) { t.Parallel(); testCommit(t, newStore(t)) })
	t.Run("ReserveAndReleaseRace", func(t *testing.T) { t.Parallel(); testRace(t, newStore(t)) })
	t.Run("TwoOrdersRaceForTheLastOfTwoProducts", func(t *testing.T) { t.Parallel(); testScarcePair(t, newStore(t)) })
	t.Run("ManyOutstandingOrdersOfOneProduct", func(t *testing.T) { t.Parallel(); testManyHolds(t, newStore(t)) })
	t.Run("ReservationThatDiedThenCancelled", func(t *testing.T) { t.Parallel(); testDied(t, a, true) })
	t.Run("ReservationThatDiedThenRedelivered", func(t *testing.T) { t.Parallel(); testDied(t, a, false) })
	t.Run("SetWithoutAVersionIsNeverRefused", func(t *testing.T) { t.Parallel(); testUnversionedSet(t, newStore(t)) })
	if a.Contended != nil {
		t.Run("WritesWaitOutConflicts", func(t *testing.T) { t.Parallel(); testContended(t, a, false) })
		t.Run("ConflictsNotWaitedOutAreUnavailable", func(t *testing.T) { t.Parallel(); testContended(t, a, true) })
	}
}

// A set without a version is the admin's "there are n now": a change that
// lands between the store's reads and its write (a reservation, an
// adjustment) never makes it a conflict.
func testUnversionedSet(t *testing.T, s inventory.Store) {
	ctx := t.Context()
	stocked(t, s, "p", 50)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_, _ = s.Adjust(ctx, "p", 1-2*(i%2)) // moves the version on
		}
	})
	for i := range 30 {
		if _, err := s.SetAvailable(ctx, "p", 40+i%5, 0); err != nil {
			close(stop)
			wg.Wait()
			t.Fatalf("set %d without a version: %v", i, err)
		}
	}
	close(stop)
	wg.Wait()
}

// A single-item write that meets a transaction is made again until it
// passes; one that never passes is Unavailable (503, or a message that
// comes again), never a fault, and changes nothing.
func testContended(t *testing.T, a Adapter, always bool) {
	ctx := t.Context()
	s := a.New(t)
	stocked(t, s, "p", 5)
	c := a.Contended(t, s, always)
	writes := []struct {
		name string
		call func() error
	}{
		{"SetAvailable", func() error { _, err := c.SetAvailable(ctx, "p", 7, 0); return err }},
		{"Adjust", func() error { _, err := c.Adjust(ctx, "p", 2); return err }},
		{"Announce", func() error { _, err := c.Announce(ctx, "p", 2, false); return err }},
		{"Release", func() error { return c.Release(ctx, "never-reserved", nil) }},
	}
	for _, w := range writes {
		err := w.call()
		switch _, k := kind.Of(err); {
		case !always && err != nil:
			t.Errorf("%s met a few conflicts: %v; want them waited out", w.name, err)
		case always && k != kind.Unavailable:
			t.Errorf("%s met conflicts to the end: %v (%v); want it unavailable", w.name, err, k)
		}
	}
	if always {
		want(t, s, "p", 5, 0)
	} else {
		want(t, s, "p", 9, 0)
	}
}

// stocked announces productID and gives it available units.
func stocked(t *testing.T, s inventory.Store, productID string, available int) {
	t.Helper()
	if _, err := s.Announce(t.Context(), productID, 1, false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetAvailable(t.Context(), productID, available, 0); err != nil {
		t.Fatal(err)
	}
}

func want(t *testing.T, s inventory.Store, productID string, available, reserved int) {
	t.Helper()
	st, err := s.Get(t.Context(), productID)
	if err != nil || st.Available != available || st.Reserved != reserved {
		t.Fatalf("%s: %+v, %v; want %d available, %d reserved", productID, st, err, available, reserved)
	}
}

// recorder is an emit that records the outcomes it was asked for.
type recorder struct {
	mu       sync.Mutex
	outcomes []inventory.ReservationOutcome
	short    [][]string
	released [][]inventory.Need
}

func (r *recorder) reserve(o inventory.ReservationOutcome, short []string) ([]events.Outgoing, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.outcomes = append(r.outcomes, o)
	r.short = append(r.short, short)
	e, err := events.New(context.Background(), "test", "Reservation", map[string]string{"outcome": string(o)}, t0)
	return []events.Outgoing{e}, err
}

func (r *recorder) release(lines []inventory.Need) ([]events.Outgoing, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.released = append(r.released, lines)
	e, err := events.New(context.Background(), "test", "Released", map[string]int{"lines": len(lines)}, t0)
	return []events.Outgoing{e}, err
}

func testAnnounce(t *testing.T, s inventory.Store) {
	ctx := t.Context()
	if _, err := s.Get(ctx, "p1"); !errors.Is(err, inventory.ErrNotFound) {
		t.Fatalf("unknown product: %v", err)
	}
	if changed, err := s.Announce(ctx, "p1", 2, false); err != nil || !changed {
		t.Fatalf("announce: %v, %v", changed, err)
	}
	st, err := s.Get(ctx, "p1")
	if err != nil || st.Tracked || st.Available != 0 || st.Deleted || st.CatalogVersion != 2 {
		t.Fatalf("announced: %+v, %v", st, err)
	}
	if changed, _ := s.Announce(ctx, "p1", 1, true); changed {
		t.Fatal("an older deletion was applied")
	}
	if changed, _ := s.Announce(ctx, "p1", 3, true); !changed {
		t.Fatal("a newer deletion was ignored")
	}
	if changed, _ := s.Announce(ctx, "p1", 2, false); changed {
		t.Fatal("an older change brought a deleted product back")
	}
	if st, _ := s.Get(ctx, "p1"); !st.Deleted {
		t.Fatalf("after deletion: %+v", st)
	}
}

func testSetAvailable(t *testing.T, s inventory.Store) {
	ctx := t.Context()
	if _, err := s.SetAvailable(ctx, "ghost", 5, 0); !errors.Is(err, inventory.ErrNotFound) {
		t.Fatalf("unknown product: %v", err)
	}
	if _, err := s.Announce(ctx, "p1", 1, false); err != nil {
		t.Fatal(err)
	}
	st, err := s.SetAvailable(ctx, "p1", 5, 0)
	if err != nil || !st.Tracked || st.Available != 5 || st.Version != 1 {
		t.Fatalf("set: %+v, %v", st, err)
	}
	if _, err := s.SetAvailable(ctx, "p1", 7, 3); !errors.Is(err, inventory.ErrVersionConflict) {
		t.Fatalf("stale version: %v", err)
	}
	if st, err := s.SetAvailable(ctx, "p1", 7, 1); err != nil || st.Available != 7 || st.Version != 2 {
		t.Fatalf("set at version 1: %+v, %v", st, err)
	}
	if got, _ := s.Get(ctx, "p1"); got.Available != 7 || got.Version != 2 || !got.Tracked {
		t.Fatalf("read back: %+v", got)
	}
	if _, err := s.Announce(ctx, "p1", 2, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetAvailable(ctx, "p1", 9, 0); !errors.Is(err, inventory.ErrDeleted) {
		t.Fatalf("deleted product: %v", err)
	}
}

func testReserve(t *testing.T, s inventory.Store) {
	ctx := t.Context()
	stocked(t, s, "a", 5)
	stocked(t, s, "b", 1)
	if _, err := s.Announce(ctx, "free", 1, false); err != nil { // untracked
		t.Fatal(err)
	}
	if _, err := s.Announce(ctx, "gone", 2, true); err != nil {
		t.Fatal(err)
	}
	var rec recorder
	tests := []struct {
		order string
		lines []inventory.Need
		want  inventory.ReservationOutcome
	}{
		{"o1", []inventory.Need{line("a", 2), line("free", 100)}, inventory.Reserved},
		{"o2", []inventory.Need{line("a", 1), line("b", 2)}, inventory.OutOfStock},
		{"o3", []inventory.Need{line("a", 1), line("gone", 1)}, inventory.ProductUnavailable},
		{"o4", []inventory.Need{line("a", 1), line("not-announced-yet", 1)}, inventory.Reserved},
		{"o5", []inventory.Need{line("a", 2), line("b", 1)}, inventory.Reserved},
		{"o6", []inventory.Need{line("a", 1)}, inventory.OutOfStock},
	}
	for _, tt := range tests {
		got, err := s.Reserve(ctx, tt.order, tt.lines, rec.reserve)
		if err != nil || got != tt.want {
			t.Fatalf("%s: %v, %v; want %v", tt.order, got, err, tt.want)
		}
	}
	want(t, s, "a", 0, 5)
	want(t, s, "b", 0, 1)
	if _, err := s.Get(ctx, "not-announced-yet"); !errors.Is(err, inventory.ErrNotFound) {
		t.Fatalf("a reservation announced a product: %v", err)
	}
	want(t, s, "free", 0, 0)
	if fmt.Sprint(rec.outcomes) != "[reserved out_of_stock product_unavailable reserved reserved out_of_stock]" {
		t.Fatalf("emitted for %v", rec.outcomes)
	}
	// A refusal names the products it could not hold, and only those.
	if fmt.Sprint(rec.short) != "[[] [b] [gone] [] [] [a]]" {
		t.Fatalf("refusals named %v, want b, gone and a", rec.short)
	}
}

func testReserveTwice(t *testing.T, s inventory.Store) {
	ctx := t.Context()
	stocked(t, s, "a", 3)
	var rec recorder
	for range 3 {
		if got, err := s.Reserve(ctx, "o1", []inventory.Need{line("a", 2)}, rec.reserve); err != nil || got != inventory.Reserved {
			t.Fatalf("reserve: %v, %v", got, err)
		}
	}
	want(t, s, "a", 1, 2)
	if got, _ := s.Reserve(ctx, "o2", []inventory.Need{line("a", 2)}, rec.reserve); got != inventory.OutOfStock {
		t.Fatalf("o2: %v", got)
	}
	if got, _ := s.Reserve(ctx, "o2", []inventory.Need{line("a", 1)}, rec.reserve); got != inventory.OutOfStock {
		t.Fatalf("o2 again: %v, want its first outcome", got)
	}
	if len(rec.outcomes) != 2 {
		t.Fatalf("emitted %v: a repeated reservation emits nothing", rec.outcomes)
	}
}

func testRelease(t *testing.T, s inventory.Store) {
	ctx := t.Context()
	stocked(t, s, "a", 5)
	stocked(t, s, "b", 5)
	if _, err := s.Announce(ctx, "free", 1, false); err != nil {
		t.Fatal(err)
	}
	var rec recorder
	if _, err := s.Reserve(ctx, "o1", []inventory.Need{line("a", 2), line("b", 5), line("free", 1)}, rec.reserve); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.Release(ctx, "o1", rec.release); err != nil {
			t.Fatal(err)
		}
	}
	want(t, s, "a", 5, 0)
	want(t, s, "b", 5, 0)
	if len(rec.released) != 1 || len(rec.released[0]) != 2 {
		t.Fatalf("released %v, want the two tracked lines once", rec.released)
	}
	if got, _ := s.Reserve(ctx, "o1", []inventory.Need{line("a", 2)}, rec.reserve); got != inventory.AlreadyReleased {
		t.Fatalf("reserve after release: %v", got)
	}
	want(t, s, "a", 5, 0)
}

func testReleaseFirst(t *testing.T, s inventory.Store) {
	ctx := t.Context()
	stocked(t, s, "a", 5)
	var rec recorder
	if err := s.Release(ctx, "o1", rec.release); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Reserve(ctx, "o1", []inventory.Need{line("a", 2)}, rec.reserve); err != nil || got != inventory.AlreadyReleased {
		t.Fatalf("a reservation after its cancellation: %v, %v", got, err)
	}
	want(t, s, "a", 5, 0)
	if len(rec.released) != 0 || len(rec.outcomes) != 0 {
		t.Fatalf("emitted %v and %v for an order that never held anything", rec.outcomes, rec.released)
	}
}

// 50 orders of one unit each race for 10 units: exactly 10 win.
func testNoOverselling(t *testing.T, s inventory.Store) {
	ctx := t.Context()
	stocked(t, s, "hot", 10)
	var wg sync.WaitGroup
	outcomes := make([]inventory.ReservationOutcome, 50)
	errs := make([]error, 50)
	for i := range outcomes {
		wg.Go(func() {
			outcomes[i], errs[i] = s.Reserve(ctx, fmt.Sprintf("o%d", i), []inventory.Need{line("hot", 1)}, nil)
		})
	}
	wg.Wait()
	won := 0
	for i, o := range outcomes {
		switch {
		case errs[i] != nil:
			t.Fatalf("order %d: %v", i, errs[i])
		case o == inventory.Reserved:
			won++
		case o != inventory.OutOfStock:
			t.Fatalf("order %d: %v", i, o)
		}
	}
	if won != 10 {
		t.Fatalf("%d orders reserved, want 10", won)
	}
	want(t, s, "hot", 0, 10)
}

// A reservation and the release of the same order, in either order or at
// once, leave nothing held.
func testRace(t *testing.T, s inventory.Store) {
	ctx := t.Context()
	stocked(t, s, "a", 100)
	var wg sync.WaitGroup
	for i := range 20 {
		order := fmt.Sprintf("o%d", i)
		wg.Go(func() {
			if _, err := s.Reserve(ctx, order, []inventory.Need{line("a", 3)}, nil); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			if err := s.Release(ctx, order, nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	want(t, s, "a", 100, 0)
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func line(productID string, quantity int) inventory.Need {
	return inventory.Need{ProductID: productID, Quantity: quantity}
}

func testCommit(t *testing.T, s inventory.Store) {
	ctx := t.Context()
	stocked(t, s, "a", 5)
	if _, err := s.Reserve(ctx, "o1", []inventory.Need{line("a", 2)}, nil); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.Commit(ctx, "o1"); err != nil {
			t.Fatal(err)
		}
	}
	want(t, s, "a", 3, 0)
	if err := s.Release(ctx, "o1", nil); err != nil {
		t.Fatal(err)
	}
	want(t, s, "a", 3, 0) // sold units do not come back
	if err := s.Commit(ctx, "never-reserved"); err != nil {
		t.Fatalf("commit of an order that holds nothing: %v", err)
	}
}

func testAdjust(t *testing.T, s inventory.Store) {
	ctx := t.Context()
	if _, err := s.Adjust(ctx, "ghost", 5); !errors.Is(err, inventory.ErrNotFound) {
		t.Fatalf("unknown product: %v", err)
	}
	if _, err := s.Announce(ctx, "p1", 1, false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Adjust(ctx, "p1", 5); !errors.Is(err, inventory.ErrNotTracked) {
		t.Fatalf("untracked product: %v", err)
	}
	if _, err := s.SetAvailable(ctx, "p1", 284, 0); err != nil {
		t.Fatal(err)
	}
	st, err := s.Adjust(ctx, "p1", -20)
	if err != nil || st.Available != 264 || st.Version != 2 || !st.Tracked {
		t.Fatalf("adjusted by -20: %+v, %v; want 264 available at version 2", st, err)
	}
	if got, _ := s.Get(ctx, "p1"); got != st {
		t.Fatalf("read back %+v, adjusted %+v", got, st)
	}
	for _, delta := range []int{-265, inventory.MaxAvailable - 263} {
		if _, err := s.Adjust(ctx, "p1", delta); !errors.Is(err, inventory.ErrOutOfRange) {
			t.Fatalf("by %d from 264: %v", delta, err)
		}
	}
	if st, err := s.Adjust(ctx, "p1", -264); err != nil || st.Available != 0 {
		t.Fatalf("down to zero: %+v, %v", st, err)
	}
	if st, err := s.Adjust(ctx, "p1", inventory.MaxAvailable); err != nil || st.Available != inventory.MaxAvailable {
		t.Fatalf("up to the most: %+v, %v", st, err)
	}
	if _, err := s.Announce(ctx, "p1", 2, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Adjust(ctx, "p1", -1); !errors.Is(err, inventory.ErrDeleted) {
		t.Fatalf("deleted product: %v", err)
	}
}

// Every change of the units available or reserved moves the version on, so
// that an admin who read the stock before an order took some cannot set it
// from what they read.
func testVersions(t *testing.T, s inventory.Store) {
	ctx := t.Context()
	stocked(t, s, "a", 10)
	version := func() int64 {
		t.Helper()
		st, err := s.Get(ctx, "a")
		if err != nil {
			t.Fatal(err)
		}
		return st.Version
	}
	steps := []struct {
		name string
		do   func() error
	}{
		{"reserve", func() error { _, err := s.Reserve(ctx, "o1", []inventory.Need{line("a", 2)}, nil); return err }},
		{"release", func() error { return s.Release(ctx, "o1", nil) }},
		{"reserve another", func() error { _, err := s.Reserve(ctx, "o2", []inventory.Need{line("a", 3)}, nil); return err }},
		{"commit", func() error { return s.Commit(ctx, "o2") }},
		{"adjust", func() error { _, err := s.Adjust(ctx, "a", 4); return err }},
	}
	for _, step := range steps {
		read := version()
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if now := version(); now <= read {
			t.Fatalf("%s: version %d -> %d, want it moved on", step.name, read, now)
		}
		if _, err := s.SetAvailable(ctx, "a", 1, read); !errors.Is(err, inventory.ErrVersionConflict) {
			t.Fatalf("set from the version read before %s: %v, want ErrVersionConflict", step.name, err)
		}
	}
	want(t, s, "a", 11, 0)
	if st, err := s.SetAvailable(ctx, "a", 1, version()); err != nil || st.Available != 1 {
		t.Fatalf("set from the current version: %+v, %v", st, err)
	}
}

// Two orders want the same two products, each stocked for one order only,
// and name them in opposite orders: exactly one gets both, the other is
// refused and holds nothing.
func testScarcePair(t *testing.T, s inventory.Store) {
	ctx := t.Context()
	for round := range 10 {
		a, b := fmt.Sprintf("a%d", round), fmt.Sprintf("b%d", round)
		stocked(t, s, a, 1)
		stocked(t, s, b, 1)
		orders := [2]string{fmt.Sprintf("x%d", round), fmt.Sprintf("y%d", round)}
		lines := [2][]inventory.Need{{line(a, 1), line(b, 1)}, {line(b, 1), line(a, 1)}}
		var outcomes [2]inventory.ReservationOutcome
		var errs [2]error
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Go(func() { outcomes[i], errs[i] = s.Reserve(ctx, orders[i], lines[i], nil) })
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("round %d: %v, %v", round, errs[0], errs[1])
		}
		won := 0
		for _, o := range outcomes {
			if o == inventory.Reserved {
				won++
			} else if o != inventory.OutOfStock {
				t.Fatalf("round %d: outcome %v", round, o)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: outcomes %v, want exactly one reserved", round, outcomes)
		}
		want(t, s, a, 0, 1)
		want(t, s, b, 0, 1)
		loser := orders[0]
		if outcomes[0] == inventory.Reserved {
			loser = orders[1]
		}
		if err := s.Release(ctx, loser, nil); err != nil {
			t.Fatal(err)
		}
		want(t, s, a, 0, 1) // the loser held nothing to give back
		want(t, s, b, 0, 1)
	}
}

// manyHolds is more orders holding one product at once than a DynamoDB item
// could list (400 KB): what an order holds is not kept in the product's item.
const manyHolds = 12_000

func testManyHolds(t *testing.T, s inventory.Store) {
	ctx := t.Context()
	stocked(t, s, "bestseller", manyHolds)
	const workers = 8
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < manyHolds; i += workers {
				o, err := s.Reserve(ctx, fmt.Sprintf("o%05d", i), []inventory.Need{line("bestseller", 1)}, nil)
				if err == nil && o != inventory.Reserved {
					err = fmt.Errorf("order %d: %v", i, o)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	want(t, s, "bestseller", 0, manyHolds)
	if o, err := s.Reserve(ctx, "one-more", []inventory.Need{line("bestseller", 1)}, nil); err != nil || o != inventory.OutOfStock {
		t.Fatalf("one order more: %v, %v", o, err)
	}
	for _, i := range []int{0, manyHolds / 2, manyHolds - 1} {
		if err := s.Release(ctx, fmt.Sprintf("o%05d", i), nil); err != nil {
			t.Fatal(err)
		}
	}
	want(t, s, "bestseller", 3, manyHolds-3)
}

// A reservation's process dies at each of its calls to the database in
// turn; then the order is cancelled and its OrderPlaced redelivered (or the
// other way round). Whatever the call it died at, the order ends holding
// nothing and every unit is back, and the events committed are one outcome.
func testDied(t *testing.T, a Adapter, cancelFirst bool) {
	ctx := t.Context()
	lines := []inventory.Need{line("a", 2), line("b", 3), line("free", 1)}
	for n := 0; ; n++ {
		s := a.New(t)
		stocked(t, s, "a", 5)
		stocked(t, s, "b", 5)
		if _, err := s.Announce(ctx, "free", 1, false); err != nil {
			t.Fatal(err)
		}
		var rec recorder
		if _, err := a.Dying(t, s, n).Reserve(ctx, "o1", lines, rec.reserve); err == nil {
			if n == 0 {
				t.Fatal("a store that died before its first call reserved")
			}
			return // it lived through every call: each one has been a place to die
		}
		if cancelFirst {
			if err := s.Release(ctx, "o1", rec.release); err != nil {
				t.Fatalf("died at call %d, then released: %v", n, err)
			}
			got, err := s.Reserve(ctx, "o1", lines, rec.reserve)
			if err != nil || (got != inventory.AlreadyReleased && got != inventory.Reserved) {
				t.Fatalf("died at call %d, released, redelivered: %v, %v", n, got, err)
			}
			if got == inventory.Reserved { // the dead attempt had committed: the release gave it back
				if len(rec.released) != 1 {
					t.Fatalf("died at call %d after committing: released %v, want the lines once", n, rec.released)
				}
			}
		} else {
			got, err := s.Reserve(ctx, "o1", lines, rec.reserve)
			if err != nil || got != inventory.Reserved {
				t.Fatalf("died at call %d, redelivered: %v, %v", n, got, err)
			}
			want(t, s, "a", 3, 2)
			want(t, s, "b", 2, 3)
			if err := s.Release(ctx, "o1", rec.release); err != nil {
				t.Fatalf("died at call %d, redelivered, released: %v", n, err)
			}
		}
		want(t, s, "a", 5, 0)
		want(t, s, "b", 5, 0)
		want(t, s, "free", 0, 0)
		if n > 20 {
			t.Fatal("the reservation still dies after 20 calls")
		}
	}
}
