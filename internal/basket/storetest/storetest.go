// Package storetest is the contract every basket.Store and basket.PriceView
// adapter passes.
package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/eventshop/eventshop/internal/basket"
	"github.com/eventshop/eventshop/internal/kind"
	"github.com/eventshop/eventshop/internal/page"
)

// Run runs the basket.Store contract against stores made by newStore.
func Run(t *testing.T, newStore func(t *testing.T) basket.Store) {
	t.Run("PutGet", func(t *testing.T) { t.Parallel(); testPutGet(t, newStore(t)) })
	t.Run("NotFound", func(t *testing.T) { t.Parallel(); testNotFound(t, newStore(t)) })
	t.Run("VersionConflict", func(t *testing.T) { t.Parallel(); testConflict(t, newStore(t)) })
	t.Run("Delete", func(t *testing.T) { t.Parallel(); testDelete(t, newStore(t)) })
	t.Run("Replace", func(t *testing.T) { t.Parallel(); testReplace(t, newStore(t)) })
	t.Run("ConcurrentReplacesLastStands", func(t *testing.T) { t.Parallel(); testConcurrentReplace(t, newStore(t)) })
	t.Run("ConcurrentWritersOneWins", func(t *testing.T) { t.Parallel(); testConcurrent(t, newStore(t)) })
	t.Run("Pagination", func(t *testing.T) { t.Parallel(); testPagination(t, newStore(t)) })
}

// RunPriceView runs the basket.PriceView contract against views made by newView.
func RunPriceView(t *testing.T, newView func(t *testing.T) basket.PriceView) {
	t.Run("NewerVersionsOnly", func(t *testing.T) { t.Parallel(); testNewerOnly(t, newView(t)) })
	t.Run("TombstoneWins", func(t *testing.T) { t.Parallel(); testTombstone(t, newView(t)) })
	t.Run("ManyAndMissing", func(t *testing.T) { t.Parallel(); testMany(t, newView(t)) })
}

// RunContendedPriceView runs, against an adapter whose writes can meet a
// transaction in flight (a checkout's check of the price items, on
// DynamoDB), the contract that such writes are waited out, or, when they
// never pass, unavailable and without effect. contended returns a view
// and a view on the same data whose writes meet a transaction: the next
// few (fewer than the adapter waits out), or, if always, every one.
func RunContendedPriceView(t *testing.T, contended func(t *testing.T, always bool) (plain, meeting basket.PriceView)) {
	for _, always := range []bool{false, true} {
		name := map[bool]string{false: "WritesWaitOutConflicts", true: "ConflictsNotWaitedOutAreUnavailable"}[always]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			plain, meeting := contended(t, always)
			apply(t, plain, basket.Price{ProductID: "p1", Name: "A", Price: 100, Version: 1})
			_, err := meeting.ApplyPrice(t.Context(), basket.Price{ProductID: "p1", Name: "B", Price: 200, Version: 2})
			want := basket.Price{ProductID: "p1", Name: "B", Price: 200, Version: 2}
			if _, k := kind.Of(err); always {
				if k != kind.Unavailable {
					t.Fatalf("a price write that met conflicts to the end: %v (%v), want it unavailable", err, k)
				}
				want = basket.Price{ProductID: "p1", Name: "A", Price: 100, Version: 1}
			} else if err != nil {
				t.Fatalf("a price write that met a few conflicts: %v; want them waited out", err)
			}
			got, err := plain.Prices(t.Context(), []string{"p1"})
			if err != nil || got["p1"] != want {
				t.Fatalf("price %+v, %v; want %+v", got["p1"], err, want)
			}
		})
	}
}

// PriceKeeping is a store that keeps prices, over its own price view.
type PriceKeeping interface {
	basket.Store
	basket.PriceView
}

// RunPriceKeeping runs the basket.Store contract of kept prices against stores
// made by newStore.
func RunPriceKeeping(t *testing.T, newStore func(t *testing.T) PriceKeeping) {
	t.Run("KeepsPricesUntilTheNextWrite", func(t *testing.T) { t.Parallel(); testKeepsPrices(t, newStore(t)) })
	t.Run("PutIfPrices", func(t *testing.T) { t.Parallel(); testPutIfPrices(t, newStore(t)) })
}

// pricedSample is sample("alice") with the view's entries for its products,
// applied to s's view.
func pricedSample(t *testing.T, s PriceKeeping) ([]basket.Item, []basket.Price) {
	t.Helper()
	prices := []basket.Price{{ProductID: "p1", Name: "One", Price: 100, Version: 1}, {ProductID: "p2", Name: "Two", Price: 250, Version: 4}}
	for _, p := range prices {
		if _, err := s.ApplyPrice(t.Context(), p); err != nil {
			t.Fatal(err)
		}
	}
	return sample("alice", 1).Items, prices
}

func testKeepsPrices(t *testing.T, s PriceKeeping) {
	ctx := t.Context()
	items, prices := pricedSample(t, s)
	keptAfter := func(what string, want []basket.Price) {
		t.Helper()
		got, err := s.Get(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Prices, want) {
			t.Fatalf("prices kept after %s = %+v, want %+v", what, got.Prices, want)
		}
	}
	if _, err := s.ReplacePriced(ctx, "alice", items, prices); err != nil {
		t.Fatal(err)
	}
	keptAfter("ReplacePriced", prices)
	if _, err := s.Replace(ctx, "alice", items); err != nil {
		t.Fatal(err)
	}
	keptAfter("Replace", nil)
	v, err := s.ReplacePriced(ctx, "alice", items, prices)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, basket.Basket{UserName: "alice", Items: []basket.Item{}, Version: v + 1}); err != nil {
		t.Fatal(err)
	}
	keptAfter("a Put of a basket that has none", nil)
}

func testPutIfPrices(t *testing.T, s PriceKeeping) {
	ctx := t.Context()
	items, prices := pricedSample(t, s)
	v, err := s.ReplacePriced(ctx, "alice", items, prices)
	if err != nil {
		t.Fatal(err)
	}
	emptied := func(version int64) basket.Basket {
		return basket.Basket{UserName: "alice", Items: []basket.Item{}, Version: version, LastCheckout: fmt.Sprintf("c-%d", version)}
	}
	if err := s.PutIfPrices(ctx, emptied(v+1), prices); err != nil {
		t.Fatalf("PutIfPrices with the view's prices: %v", err)
	}
	if got, _ := s.Get(ctx, "alice"); !reflect.DeepEqual(got, emptied(v+1)) {
		t.Fatalf("Get = %+v, want %+v", got, emptied(v+1))
	}

	if v, err = s.ReplacePriced(ctx, "alice", items, prices); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyPrice(ctx, basket.Price{ProductID: "p2", Name: "Two", Price: 300, Version: 5}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutIfPrices(ctx, emptied(v+1), prices); !errors.Is(err, basket.ErrPriceUnconfirmed) {
		t.Fatalf("PutIfPrices after a price changed: %v, want ErrPriceUnconfirmed", err)
	}
	if got, _ := s.Get(ctx, "alice"); got.Version != v || len(got.Items) != len(items) {
		t.Fatalf("after a refused PutIfPrices the basket is %+v, want version %d with its items", got, v)
	}

	current := []basket.Price{prices[0], {ProductID: "p2", Name: "Two", Price: 300, Version: 5}}
	if err := s.PutIfPrices(ctx, emptied(v), current); !errors.Is(err, basket.ErrVersionConflict) {
		t.Fatalf("PutIfPrices against an older version: %v, want ErrVersionConflict", err)
	}
	if err := s.PutIfPrices(ctx, basket.Basket{UserName: "nobody", Items: []basket.Item{}, Version: 3}, current); !errors.Is(err, basket.ErrNotFound) {
		t.Fatalf("PutIfPrices of a missing basket: %v, want ErrNotFound", err)
	}
	if err := s.PutIfPrices(ctx, emptied(v+1), current); err != nil {
		t.Fatalf("PutIfPrices with the view's new prices: %v", err)
	}
}

func sample(user string, version int64) basket.Basket {
	return basket.Basket{UserName: user, Version: version, Items: []basket.Item{
		{ProductID: "p1", Quantity: 2, Color: "red"},
		{ProductID: "p2", Quantity: 1},
	}}
}

func testPutGet(t *testing.T, s basket.Store) {
	ctx := t.Context()
	b := sample("alice", 1)
	if err := s.Put(ctx, b); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, b) {
		t.Fatalf("Get = %+v, want %+v", got, b)
	}
	next := basket.Basket{UserName: "alice", Version: 2, Items: []basket.Item{}, LastCheckout: "c-1", LastCheckoutKey: "key with spaces/and:colons"}
	if err := s.Put(ctx, next); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, "alice"); !reflect.DeepEqual(got, next) {
		t.Fatalf("Get after replace = %+v, want %+v", got, next)
	}
}

func testNotFound(t *testing.T, s basket.Store) {
	ctx := t.Context()
	if _, err := s.Get(ctx, "nobody"); !errors.Is(err, basket.ErrNotFound) {
		t.Errorf("Get missing: %v, want ErrNotFound", err)
	}
	if err := s.Put(ctx, sample("nobody", 3)); !errors.Is(err, basket.ErrNotFound) {
		t.Errorf("Put v3 of missing basket: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, "nobody"); err != nil {
		t.Errorf("Delete missing: %v, want nil", err)
	}
}

func testConflict(t *testing.T, s basket.Store) {
	ctx := t.Context()
	if err := s.Put(ctx, sample("bob", 1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, sample("bob", 1)); !errors.Is(err, basket.ErrVersionConflict) {
		t.Errorf("second create: %v, want ErrVersionConflict", err)
	}
	if err := s.Put(ctx, sample("bob", 3)); !errors.Is(err, basket.ErrVersionConflict) {
		t.Errorf("Put v3 over v1: %v, want ErrVersionConflict", err)
	}
	if got, _ := s.Get(ctx, "bob"); got.Version != 1 {
		t.Errorf("failed writes changed the basket: %+v", got)
	}
}

func testDelete(t *testing.T, s basket.Store) {
	ctx := t.Context()
	if err := s.Put(ctx, sample("carol", 1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "carol"); err != nil {
		t.Fatal(err)
	}
	want := basket.Basket{UserName: "carol", Items: []basket.Item{}, Version: 2}
	if got, err := s.Get(ctx, "carol"); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Get after Delete = %+v, %v; want %+v: emptied, its version counted on", got, err, want)
	}
	// A checkout that read the basket before the delete writes against v1;
	// the basket made again after it must not take that write.
	if v, err := s.Replace(ctx, "carol", sample("carol", 1).Items); err != nil || v != 3 {
		t.Fatalf("Replace after Delete = v%d, %v; want v3", v, err)
	}
	stale := basket.Basket{UserName: "carol", Items: []basket.Item{}, Version: 2, LastCheckout: "c-1"}
	if err := s.Put(ctx, stale); !errors.Is(err, basket.ErrVersionConflict) {
		t.Fatalf("Put against the version before the delete: %v, want ErrVersionConflict", err)
	}
	if err := s.Delete(ctx, "nobody-here"); err != nil {
		t.Fatalf("Delete of a missing basket: %v", err)
	}
	if _, err := s.Get(ctx, "nobody-here"); !errors.Is(err, basket.ErrNotFound) {
		t.Fatalf("Get after deleting a missing basket: %v, want ErrNotFound", err)
	}
}

func testReplace(t *testing.T, s basket.Store) {
	ctx := t.Context()
	items := sample("erin", 1).Items
	if v, err := s.Replace(ctx, "erin", items); err != nil || v != 1 {
		t.Fatalf("Replace of a missing basket = v%d, %v; want v1", v, err)
	}
	if got, err := s.Get(ctx, "erin"); err != nil || !reflect.DeepEqual(got, basket.Basket{UserName: "erin", Items: items, Version: 1}) {
		t.Fatalf("Get after Replace = %+v, %v", got, err)
	}
	checkedOut := basket.Basket{UserName: "erin", Version: 2, Items: []basket.Item{}, LastCheckout: "c-1", LastCheckoutKey: "k"}
	if err := s.Put(ctx, checkedOut); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Replace(ctx, "erin", nil); err != nil || v != 3 {
		t.Fatalf("Replace after a checkout = v%d, %v; want v3", v, err)
	}
	want := basket.Basket{UserName: "erin", Items: []basket.Item{}, Version: 3}
	if got, err := s.Get(ctx, "erin"); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Get after Replace = %+v, %v; want %+v (no items, last checkout forgotten)", got, err, want)
	}
	// A write made against the version Replace superseded fails.
	stale := checkedOut
	stale.Version = 3
	if err := s.Put(ctx, stale); !errors.Is(err, basket.ErrVersionConflict) {
		t.Fatalf("Put against the replaced version: %v, want ErrVersionConflict", err)
	}
}

func testConcurrentReplace(t *testing.T, s basket.Store) {
	ctx := t.Context()
	var wg sync.WaitGroup
	versions := make([]int64, 8)
	errs := make([]error, len(versions))
	for i := range versions {
		wg.Go(func() {
			versions[i], errs[i] = s.Replace(ctx, "frank", []basket.Item{{ProductID: "p1", Quantity: i + 1}})
		})
	}
	wg.Wait()
	last, seen := 0, map[int64]bool{}
	for i, v := range versions {
		if errs[i] != nil {
			t.Fatalf("Replace %d: %v", i, errs[i])
		}
		if seen[v] {
			t.Fatalf("two replaces got version %d: %v", v, versions)
		}
		seen[v] = true
		if v > versions[last] {
			last = i
		}
	}
	got, err := s.Get(ctx, "frank")
	if err != nil || got.Version != versions[last] || got.Items[0].Quantity != last+1 {
		t.Fatalf("stored %+v, %v; want the last replace's (v%d, quantity %d)", got, err, versions[last], last+1)
	}
}

func testConcurrent(t *testing.T, s basket.Store) {
	ctx := t.Context()
	if err := s.Put(ctx, sample("dave", 1)); err != nil {
		t.Fatal(err)
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		winner []int
		other  []error
	)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := basket.Basket{UserName: "dave", Version: 2, Items: []basket.Item{{ProductID: "p1", Quantity: i + 1}}}
			err := s.Put(ctx, b)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				winner = append(winner, i+1)
			case !errors.Is(err, basket.ErrVersionConflict):
				other = append(other, err)
			}
		}()
	}
	wg.Wait()
	if len(other) > 0 || len(winner) != 1 {
		t.Fatalf("winners %v, unexpected errors %v; want exactly one winner", winner, other)
	}
	if got, _ := s.Get(ctx, "dave"); got.Items[0].Quantity != winner[0] {
		t.Fatalf("stored %+v, want the winner's quantity %d", got, winner[0])
	}
}

func testPagination(t *testing.T, s basket.Store) {
	ctx := t.Context()
	for i := range 5 {
		if err := s.Put(ctx, sample(fmt.Sprintf("user%d", i), 1)); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	req := page.Request{Limit: 2}
	for range 10 {
		res, err := s.List(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Items) > 2 {
			t.Fatalf("page of %d exceeds limit 2", len(res.Items))
		}
		for _, b := range res.Items {
			if seen[b.UserName] {
				t.Fatalf("%s listed twice", b.UserName)
			}
			seen[b.UserName] = true
		}
		if res.NextToken == "" {
			break
		}
		req.Token = res.NextToken
	}
	if len(seen) != 5 {
		t.Fatalf("listed %d baskets, want 5", len(seen))
	}
	if _, err := s.List(ctx, page.Request{Limit: 2, Token: "%%%"}); err == nil {
		t.Fatal("List accepted a malformed token")
	}
}

func apply(t *testing.T, v basket.PriceView, p basket.Price) bool {
	ctx := t.Context()
	t.Helper()
	ok, err := v.ApplyPrice(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func testNewerOnly(t *testing.T, v basket.PriceView) {
	ctx := t.Context()
	if !apply(t, v, basket.Price{ProductID: "p1", Name: "A", Price: 100, Version: 2}) {
		t.Fatal("first version not applied")
	}
	if apply(t, v, basket.Price{ProductID: "p1", Name: "old", Price: 50, Version: 1}) {
		t.Fatal("older version applied")
	}
	if apply(t, v, basket.Price{ProductID: "p1", Name: "dup", Price: 50, Version: 2}) {
		t.Fatal("same version applied twice")
	}
	if !apply(t, v, basket.Price{ProductID: "p1", Name: "B", Price: 300, Version: 3}) {
		t.Fatal("newer version not applied")
	}
	got, err := v.Prices(ctx, []string{"p1"})
	if err != nil {
		t.Fatal(err)
	}
	if want := (basket.Price{ProductID: "p1", Name: "B", Price: 300, Version: 3}); got["p1"] != want {
		t.Fatalf("Prices = %+v, want %+v", got["p1"], want)
	}
}

func testTombstone(t *testing.T, v basket.PriceView) {
	ctx := t.Context()
	apply(t, v, basket.Price{ProductID: "p1", Name: "A", Price: 100, Version: 1})
	if !apply(t, v, basket.Price{ProductID: "p1", Version: 2, Deleted: true}) {
		t.Fatal("delete not applied")
	}
	if apply(t, v, basket.Price{ProductID: "p1", Name: "A", Price: 100, Version: 1}) {
		t.Fatal("a late change resurrected a deleted product")
	}
	got, _ := v.Prices(ctx, []string{"p1"})
	if !got["p1"].Deleted {
		t.Fatalf("Prices = %+v, want a tombstone", got["p1"])
	}
}

func testMany(t *testing.T, v basket.PriceView) {
	ctx := t.Context()
	for i := range 3 {
		apply(t, v, basket.Price{ProductID: fmt.Sprintf("p%d", i), Name: "x", Price: 100, Version: 1})
	}
	got, err := v.Prices(ctx, []string{"p0", "p2", "missing"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["p0"].Price != 100 || got["p2"].Price != 100 {
		t.Fatalf("Prices = %+v, want p0 and p2 only", got)
	}
	if got, err := v.Prices(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("Prices(nil) = %v, %v", got, err)
	}
}
