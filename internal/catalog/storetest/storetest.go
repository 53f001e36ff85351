// Package storetest is the contract every catalog.Store adapter passes: the
// SQLite adapter here, the DynamoDB adapter against a DynamoDB-compatible server.
package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/eventshop/eventshop/internal/catalog"
	"github.com/eventshop/eventshop/internal/page"
)

// Run runs the contract against stores made by newStore, one per subtest.
func Run(t *testing.T, newStore func(t *testing.T) catalog.Store) {
	t.Run("CreateGet", func(t *testing.T) { t.Parallel(); testCreateGet(t, newStore(t)) })
	t.Run("NotFound", func(t *testing.T) { t.Parallel(); testNotFound(t, newStore(t)) })
	t.Run("LookupSeesWrites", func(t *testing.T) { t.Parallel(); testLookup(t, newStore(t)) })
	t.Run("CreateExistingConflicts", func(t *testing.T) { t.Parallel(); testCreateExisting(t, newStore(t)) })
	t.Run("UpdateVersions", func(t *testing.T) { t.Parallel(); testUpdate(t, newStore(t)) })
	t.Run("Delete", func(t *testing.T) { t.Parallel(); testDelete(t, newStore(t)) })
	t.Run("ConcurrentWritersOneWins", func(t *testing.T) { t.Parallel(); testConcurrent(t, newStore(t)) })
	t.Run("Pagination", func(t *testing.T) { t.Parallel(); testPagination(t, newStore(t)) })
	t.Run("Category", func(t *testing.T) { t.Parallel(); testCategory(t, newStore(t)) })
	t.Run("BadToken", func(t *testing.T) { t.Parallel(); testBadToken(t, newStore(t)) })
}

func product(category string) catalog.Product {
	return catalog.Product{ID: uuid.NewString(), Name: "Widget", Description: "d", ImageFile: "w.png", Category: category, Price: 1999, Version: 1}
}

func mustCreate(t *testing.T, s catalog.Store, p catalog.Product) {
	t.Helper()
	if err := s.Create(t.Context(), p); err != nil {
		t.Fatalf("Create: %v", err)
	}
}

func testCreateGet(t *testing.T, s catalog.Store) {
	p := product("Phone")
	mustCreate(t, s, p)
	got, err := s.Get(t.Context(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got != p {
		t.Fatalf("Get = %+v, want %+v", got, p)
	}
}

func testNotFound(t *testing.T, s catalog.Store) {
	ctx := t.Context()
	id := uuid.NewString()
	if _, err := s.Get(ctx, id); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("Get missing: %v, want ErrNotFound", err)
	}
	p := product("Phone")
	p.ID, p.Version = id, 2
	if err := s.Update(ctx, p); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("Update missing: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, id, 1); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("Delete missing: %v, want ErrNotFound", err)
	}
}

// lookupLag is how long a Lookup may miss a write.
const lookupLag = 2 * time.Second

// lookup waits, up to lookupLag, for Lookup of id to answer as want does.
func lookup(t *testing.T, s catalog.Store, id string, want func(catalog.Product, error) bool) (catalog.Product, error) {
	t.Helper()
	deadline := time.Now().Add(lookupLag)
	for {
		p, err := s.Lookup(t.Context(), id)
		if want(p, err) || time.Now().After(deadline) {
			return p, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testLookup(t *testing.T, s catalog.Store) {
	ctx := t.Context()
	if _, err := s.Lookup(ctx, uuid.NewString()); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("Lookup missing: %v, want ErrNotFound", err)
	}
	p := product("Phone")
	mustCreate(t, s, p)
	if got, err := lookup(t, s, p.ID, func(got catalog.Product, err error) bool { return err == nil }); err != nil || got != p {
		t.Fatalf("Lookup after Create = %+v, %v; want %+v", got, err, p)
	}
	p.Version, p.Price = 2, 2500
	if err := s.Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	if got, err := lookup(t, s, p.ID, func(got catalog.Product, err error) bool { return got.Version == 2 }); err != nil || got != p {
		t.Fatalf("Lookup after Update = %+v, %v; want %+v", got, err, p)
	}
	if err := s.Delete(ctx, p.ID, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := lookup(t, s, p.ID, func(_ catalog.Product, err error) bool { return err != nil }); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("Lookup after Delete: %v, want ErrNotFound", err)
	}
}

func testCreateExisting(t *testing.T, s catalog.Store) {
	p := product("Phone")
	mustCreate(t, s, p)
	q := p
	q.Name = "Other"
	if err := s.Create(t.Context(), q); !errors.Is(err, catalog.ErrVersionConflict) {
		t.Fatalf("second Create: %v, want ErrVersionConflict", err)
	}
	if got, _ := s.Get(t.Context(), p.ID); got.Name != "Widget" {
		t.Fatalf("failed Create changed the product: %+v", got)
	}
}

func testUpdate(t *testing.T, s catalog.Store) {
	ctx := t.Context()
	p := product("Phone")
	mustCreate(t, s, p)
	p.Version, p.Price, p.Category = 2, 2500, "Laptop"
	if err := s.Update(ctx, p); err != nil {
		t.Fatalf("Update 1→2: %v", err)
	}
	stale := p // a second writer that also read version 1
	stale.Name = "stale"
	if err := s.Update(ctx, stale); !errors.Is(err, catalog.ErrVersionConflict) {
		t.Fatalf("Update with stale version: %v, want ErrVersionConflict", err)
	}
	got, err := s.Get(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got != p {
		t.Fatalf("Get = %+v, want %+v", got, p)
	}
	if res, _ := s.ListByCategory(ctx, "Phone", page.Request{Limit: 10}); len(res.Items) != 0 {
		t.Fatalf("category index still lists the product under its old category: %+v", res.Items)
	}
}

func testDelete(t *testing.T, s catalog.Store) {
	ctx := t.Context()
	p := product("Phone")
	mustCreate(t, s, p)
	if err := s.Delete(ctx, p.ID, 2); !errors.Is(err, catalog.ErrVersionConflict) {
		t.Fatalf("Delete at wrong version: %v, want ErrVersionConflict", err)
	}
	if err := s.Delete(ctx, p.ID, 1); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get(ctx, p.ID); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
	}
	for _, list := range []func() (page.Of[catalog.Product], error){
		func() (page.Of[catalog.Product], error) { return s.List(ctx, page.Request{Limit: 10}) },
		func() (page.Of[catalog.Product], error) {
			return s.ListByCategory(ctx, "Phone", page.Request{Limit: 10})
		},
	} {
		if res, err := list(); err != nil || len(res.Items) != 0 {
			t.Fatalf("deleted product still listed: %+v, %v", res.Items, err)
		}
	}
}

func testConcurrent(t *testing.T, s catalog.Store) {
	ctx := t.Context()
	p := product("Phone")
	mustCreate(t, s, p)
	const writers = 8
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		won      []string
		failures []error
	)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := p
			q.Version, q.Name = 2, fmt.Sprintf("writer %d", i)
			err := s.Update(ctx, q)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won = append(won, q.Name)
			case !errors.Is(err, catalog.ErrVersionConflict):
				failures = append(failures, err)
			}
		}()
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("losers got errors other than ErrVersionConflict: %v", failures)
	}
	if len(won) != 1 {
		t.Fatalf("%d writers won, want exactly 1", len(won))
	}
	if got, _ := s.Get(ctx, p.ID); got.Name != won[0] || got.Version != 2 {
		t.Fatalf("stored %+v, want the winner %q at version 2", got, won[0])
	}
}

func collect(t *testing.T, limit int, list func(page.Request) (page.Of[catalog.Product], error)) []string {
	t.Helper()
	var ids []string
	req := page.Request{Limit: limit}
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("pagination does not end")
		}
		res, err := list(req)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Items) > limit {
			t.Fatalf("page of %d items exceeds limit %d", len(res.Items), limit)
		}
		for _, p := range res.Items {
			ids = append(ids, p.ID)
		}
		if res.NextToken == "" {
			return ids
		}
		req.Token = res.NextToken
	}
}

func testPagination(t *testing.T, s catalog.Store) {
	ctx := t.Context()
	want := map[string]bool{}
	for range 7 {
		p := product("Phone")
		mustCreate(t, s, p)
		want[p.ID] = true
	}
	for _, limit := range []int{1, 3, 7, 100} {
		ids := collect(t, limit, func(r page.Request) (page.Of[catalog.Product], error) { return s.List(ctx, r) })
		seen := map[string]bool{}
		for _, id := range ids {
			if seen[id] {
				t.Fatalf("limit %d: %s listed twice", limit, id)
			}
			seen[id] = true
		}
		if len(seen) != len(want) {
			t.Fatalf("limit %d: listed %d products, want %d", limit, len(seen), len(want))
		}
	}
}

func testCategory(t *testing.T, s catalog.Store) {
	ctx := t.Context()
	phones := map[string]bool{}
	for i := range 5 {
		p := product("Phone")
		if i%2 == 1 {
			p.Category = "Laptop"
		} else {
			phones[p.ID] = true
		}
		mustCreate(t, s, p)
	}
	ids := collect(t, 2, func(r page.Request) (page.Of[catalog.Product], error) { return s.ListByCategory(ctx, "Phone", r) })
	if len(ids) != len(phones) {
		t.Fatalf("category Phone listed %v, want %d products", ids, len(phones))
	}
	for _, id := range ids {
		if !phones[id] {
			t.Fatalf("category Phone listed %s, which is not a phone", id)
		}
	}
	if res, err := s.ListByCategory(ctx, "Nothing", page.Request{Limit: 5}); err != nil || len(res.Items) != 0 || res.NextToken != "" {
		t.Fatalf("empty category: %+v, %v", res, err)
	}
}

func testBadToken(t *testing.T, s catalog.Store) {
	if _, err := s.List(t.Context(), page.Request{Limit: 5, Token: "not a token!"}); err == nil {
		t.Fatal("List accepted a malformed page token")
	}
}
