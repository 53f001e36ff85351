package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/eventshop/eventshop/internal/catalog"
	"github.com/eventshop/eventshop/internal/catalog/sqlite"
	"github.com/eventshop/eventshop/internal/catalog/storetest"
	"github.com/eventshop/eventshop/internal/events"
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
	evt, _ := events.New(events.SourceCatalog, events.TypeProductChanged, map[string]int{"v": 1}, time.Now())
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
