package consumer_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/eventshop/eventshop/internal/basket/app"
	"github.com/eventshop/eventshop/internal/basket/consumer"
	"github.com/eventshop/eventshop/internal/basket/sqlite"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/eventstest"
)

func TestReorderedAndDuplicateEvents(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "basket.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	handle := consumer.New(app.NewPrices(s), slog.New(slog.DiscardHandler)).Handle
	v3 := events.ProductChanged{ProductID: "p1", Name: "v3", Price: 300, Version: 3}
	v2 := events.ProductChanged{ProductID: "p1", Name: "v2", Price: 200, Version: 2}
	resp, err := handle(ctx, eventstest.Batch(
		eventstest.Message(t, "a", events.SourceCatalog, events.TypeProductChanged, v3),
		eventstest.Message(t, "b", events.SourceCatalog, events.TypeProductChanged, v2), // late
		eventstest.Message(t, "c", events.SourceCatalog, events.TypeProductChanged, v3), // duplicate
	))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("handle: %+v, %v", resp, err)
	}
	prices, err := s.Prices(ctx, []string{"p1"})
	if err != nil {
		t.Fatal(err)
	}
	if p := prices["p1"]; p.Version != 3 || p.Price != 300 || p.Name != "v3" {
		t.Fatalf("view = %+v, want version 3 at 3.00", p)
	}
	resp, _ = handle(ctx, eventstest.Batch(
		eventstest.Message(t, "d", events.SourceCatalog, events.TypeProductDeleted, events.ProductDeleted{ProductID: "p1", Version: 4}),
		eventstest.Message(t, "e", events.SourceCatalog, events.TypeProductDeleted, events.ProductDeleted{ProductID: "bad/id", Version: 4}),
	))
	if got := eventstest.Failed(resp); len(got) != 1 || got[0] != "e" {
		t.Fatalf("failed = %v, want only e", got)
	}
	prices, _ = s.Prices(ctx, []string{"p1"})
	if !prices["p1"].Deleted {
		t.Fatalf("view = %+v, want deleted", prices["p1"])
	}
}
