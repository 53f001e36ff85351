package consumer_test

import (
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/eventstest"
	"github.com/eventshop/eventshop/internal/inventory/app"
	"github.com/eventshop/eventshop/internal/inventory/consumer"
	"github.com/eventshop/eventshop/internal/inventory/sqlite"
)

// Announcements arrive twice and out of order; the newest wins, a bad one
// fails alone.
func TestAnnouncementsAreIdempotent(t *testing.T) {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "inventory.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	h := consumer.New(app.New(s), slog.New(slog.DiscardHandler)).Handle
	deleted := eventstest.Message(t, "d", events.SourceCatalog, events.TypeProductDeleted, events.ProductDeleted{ProductID: "p1", Version: 2})
	changed := eventstest.Message(t, "c", events.SourceCatalog, events.TypeProductChanged, events.ProductChanged{ProductID: "p1", Version: 1})
	bad := eventstest.Message(t, "b", events.SourceCatalog, events.TypeProductChanged, events.ProductChanged{ProductID: "a/b", Version: 1})
	other := eventstest.Message(t, "o", events.SourceCatalog, "SomethingElse", map[string]string{})
	resp, err := h(t.Context(), eventstest.Batch(deleted, changed, deleted, bad, changed, other))
	if err != nil {
		t.Fatal(err)
	}
	if got := eventstest.Failed(resp); len(got) != 1 || got[0] != "b" {
		t.Fatalf("failed %v, want only the bad id", got)
	}
	st, err := s.Get(t.Context(), "p1")
	if err != nil || !st.Deleted || st.CatalogVersion != 2 {
		t.Fatalf("stock %+v, %v: the deletion (newest) must win", st, err)
	}
}
