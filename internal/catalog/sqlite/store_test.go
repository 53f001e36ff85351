package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/eventshop/eventshop/internal/catalog"
	"github.com/eventshop/eventshop/internal/catalog/sqlite"
	"github.com/eventshop/eventshop/internal/catalog/storetest"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/page"
)

func open(t *testing.T) *sqlite.Store {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) catalog.Store { return open(t) })
}

func TestEventsCommitWithTheWrite(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	evt, _ := events.New(context.Background(), events.SourceCatalog, events.TypeProductChanged, map[string]int{"v": 1}, time.Now())
	p := catalog.Product{ID: "p1", Name: "n", Category: "c", Price: 100, Version: 1}
	if err := s.Create(ctx, p, evt); err != nil {
		t.Fatal(err)
	}
	p.Version = 5 // stale: must fail and leave no event behind
	if err := s.Update(ctx, p, evt); err == nil {
		t.Fatal("stale update succeeded")
	}
	if n, err := s.Outbox().Pending(ctx); err != nil || n != 1 {
		t.Fatalf("outbox holds %d events (%v), want only the committed write's 1", n, err)
	}
}

// A product read is served from memory until a write, and never stale after
// one: reads racing updates always see the last committed version once the
// update returns.
func TestReadsAreCachedUntilAWrite(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	p := catalog.Product{ID: "p1", Name: "n", Category: "c", Price: 100, Version: 1}
	if err := s.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	for v := int64(2); v <= 200; v++ {
		done := make(chan struct{})
		go func() { // a reader racing the update
			defer close(done)
			_, _ = s.Get(ctx, "p1")
		}()
		p.Version = v
		p.Price++
		if err := s.Update(ctx, p); err != nil {
			t.Fatal(err)
		}
		<-done
		for range 2 { // the first read fills the cache, the second is served from it
			if got, err := s.Get(ctx, "p1"); err != nil || got.Version != v || got.Price != p.Price {
				t.Fatalf("after update %d: %+v, %v", v, got, err)
			}
		}
	}
	if err := s.Delete(ctx, "p1", 200); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "p1"); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

// Pages, of a category and of the whole catalog, are served from memory
// until a write, and never stale after one, with readers racing the writes.
func TestPagesAreCachedUntilAWrite(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	p := catalog.Product{ID: "p1", Name: "n", Category: "c", Price: 100, Version: 1}
	if err := s.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	req := page.Request{Limit: 20}
	pages := map[string]func() (page.Of[catalog.Product], error){
		"category": func() (page.Of[catalog.Product], error) { return s.ListByCategory(ctx, "c", req) },
		"catalog":  func() (page.Of[catalog.Product], error) { return s.List(ctx, req) },
	}
	want := func(step string, products ...catalog.Product) {
		t.Helper()
		for name, read := range pages {
			for range 2 { // the first read fills the cache, the second is served from it
				got, err := read()
				if err != nil || !slices.Equal(got.Items, products) {
					t.Fatalf("after %s, the %s page: %+v, %v; want %+v", step, name, got.Items, err, products)
				}
			}
		}
	}
	race := func(write func() error) {
		t.Helper()
		done := make(chan struct{})
		go func() { // readers racing the write
			defer close(done)
			for _, read := range pages {
				_, _ = read()
			}
		}()
		if err := write(); err != nil {
			t.Fatal(err)
		}
		<-done
	}
	want("the create", p)
	for v := int64(2); v <= 100; v++ {
		p.Version, p.Price = v, p.Price+1
		race(func() error { return s.Update(ctx, p) })
		want(fmt.Sprintf("update %d", v), p)
	}
	q := catalog.Product{ID: "p2", Name: "m", Category: "c", Price: 5, Version: 1}
	race(func() error { return s.Create(ctx, q) })
	want("a second product", p, q)
	race(func() error { return s.Delete(ctx, "p1", p.Version) })
	want("the delete", q)
}

// Seed writes products the store reads back as they were given.
func TestSeededProductsReadBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	product := func(i int) catalog.Product {
		return catalog.Product{ID: fmt.Sprintf("p%d", i), Name: "Widget", Description: "d", ImageFile: "w.png", Category: "Tools", Price: 1999, Version: 1}
	}
	if err := sqlite.Seed(t.Context(), path, 3, product); err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.Get(t.Context(), "p2"); err != nil || got != product(2) {
		t.Fatalf("Get = %+v, %v; want %+v", got, err, product(2))
	}
}
