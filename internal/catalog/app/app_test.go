package app_test

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventshop/eventshop/internal/catalog"
	"github.com/eventshop/eventshop/internal/catalog/app"
	"github.com/eventshop/eventshop/internal/catalog/sqlite"
	"github.com/eventshop/eventshop/internal/correlation"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/eventstest"
	"github.com/eventshop/eventshop/internal/page"
	"github.com/eventshop/eventshop/internal/validation"
)

var widget = catalog.Details{Name: "Widget", Category: "Tools", Price: 19_99}

func setup(t *testing.T) (*app.Catalog, *sqlite.Store) {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return app.New(s), s
}

// relayed returns the events the writes so far committed, and empties the outbox.
func relayed(t *testing.T, s *sqlite.Store) []events.Outgoing {
	t.Helper()
	var c eventstest.Collector
	if _, err := s.Outbox().Flush(t.Context(), &c); err != nil {
		t.Fatal(err)
	}
	return c.Events()
}

func detail[T any](t *testing.T, e events.Outgoing) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(e.Detail, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCreate(t *testing.T) {
	tests := []struct {
		name  string
		d     catalog.Details
		field string // the invalid field, or "" when Create succeeds
	}{
		{"valid", widget, ""},
		{"no name", catalog.Details{Category: "Tools", Price: 1}, "name"},
		{"free", catalog.Details{Name: "W", Category: "Tools", Price: 0}, "price"},
		{"too dear", catalog.Details{Name: "W", Category: "Tools", Price: 1_000_000_01}, "price"},
		{"dearest allowed", catalog.Details{Name: "W", Category: "Tools", Price: 1_000_000_00}, ""},
		{"long category", catalog.Details{Name: "W", Category: strings.Repeat("c", 65), Price: 1}, "category"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, s := setup(t)
			ctx := correlation.With(t.Context(), "req-1")
			p, err := a.Create(ctx, tt.d)
			if tt.field != "" {
				var verr *validation.Error
				if !errors.As(err, &verr) || verr.Field != tt.field {
					t.Fatalf("err = %v, want a validation error on %s", err, tt.field)
				}
				if evts := relayed(t, s); len(evts) != 0 {
					t.Fatalf("a refused create emitted %d events", len(evts))
				}
				return
			}
			if err != nil || p.Version != 1 || p.ID == "" || p.Name != tt.d.Name || p.Price != tt.d.Price {
				t.Fatalf("Create = %+v, %v", p, err)
			}
			evts := relayed(t, s)
			if len(evts) != 1 || evts[0].Source != events.SourceCatalog || evts[0].DetailType != events.TypeProductChanged {
				t.Fatalf("events %+v, want one ProductChanged", evts)
			}
			e := detail[events.ProductChanged](t, evts[0])
			if e.ProductID != p.ID || e.Version != 1 || e.Price != p.Price || e.Name != p.Name || e.Category != p.Category || e.CorrelationID != "req-1" {
				t.Fatalf("ProductChanged %+v for %+v", e, p)
			}
		})
	}
}

func TestUpdate(t *testing.T) {
	tests := []struct {
		name      string
		id        string
		ifVersion int64
		want      error
	}{
		{"any version", "", 0, nil},
		{"the version read", "", 1, nil},
		{"a stale version", "", 2, catalog.ErrVersionConflict},
		{"missing product", "ghost", 0, catalog.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, s := setup(t)
			p, err := a.Create(t.Context(), widget)
			if err != nil {
				t.Fatal(err)
			}
			relayed(t, s)
			id := p.ID
			if tt.id != "" {
				id = tt.id
			}
			changed := widget
			changed.Price = 25_00
			got, err := a.Update(t.Context(), id, changed, tt.ifVersion)
			evts := relayed(t, s)
			if tt.want != nil {
				if !errors.Is(err, tt.want) || len(evts) != 0 {
					t.Fatalf("Update = %v with %d events, want %v and none", err, len(evts), tt.want)
				}
				if cur, _ := a.Get(t.Context(), p.ID); cur.Version != 1 || cur.Price != widget.Price {
					t.Fatalf("a refused update changed the product: %+v", cur)
				}
				return
			}
			if err != nil || got.Version != 2 || got.Price != 25_00 || got.ID != p.ID {
				t.Fatalf("Update = %+v, %v", got, err)
			}
			if len(evts) != 1 {
				t.Fatalf("%d events, want 1", len(evts))
			}
			if e := detail[events.ProductChanged](t, evts[0]); e.Version != 2 || e.Price != 25_00 {
				t.Fatalf("ProductChanged %+v, want version 2 at 25.00", e)
			}
		})
	}
	a, _ := setup(t)
	var verr *validation.Error
	if _, err := a.Update(t.Context(), "../x", widget, 0); !errors.As(err, &verr) || verr.Field != "id" {
		t.Fatalf("bad id: %v", err)
	}
}

func TestDeleteEmitsTheNextVersion(t *testing.T) {
	a, s := setup(t)
	p, err := a.Create(t.Context(), widget)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Update(t.Context(), p.ID, widget, 0); err != nil {
		t.Fatal(err)
	}
	relayed(t, s)
	if err := a.Delete(t.Context(), p.ID); err != nil {
		t.Fatal(err)
	}
	evts := relayed(t, s)
	if len(evts) != 1 || evts[0].DetailType != events.TypeProductDeleted {
		t.Fatalf("events %+v, want one ProductDeleted", evts)
	}
	if e := detail[events.ProductDeleted](t, evts[0]); e.ProductID != p.ID || e.Version != 3 {
		t.Fatalf("ProductDeleted %+v, want version 3 (the write after version 2)", e)
	}
	if _, err := a.Get(t.Context(), p.ID); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("Get after delete: %v", err)
	}
	if err := a.Delete(t.Context(), p.ID); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("second delete: %v, want ErrNotFound", err)
	}
	if evts := relayed(t, s); len(evts) != 0 {
		t.Fatalf("a failed delete emitted %d events", len(evts))
	}
}

func TestLoadDemoOnce(t *testing.T) {
	a, s := setup(t)
	n, err := a.LoadDemo(t.Context())
	if err != nil || n != len(app.Demo) {
		t.Fatalf("LoadDemo = %d, %v; want %d", n, err, len(app.Demo))
	}
	if evts := relayed(t, s); len(evts) != len(app.Demo) {
		t.Fatalf("%d events, want one per demo product", len(evts))
	}
	if n, err := a.LoadDemo(t.Context()); err != nil || n != 0 {
		t.Fatalf("second LoadDemo = %d, %v; want 0", n, err)
	}
	all, err := a.List(t.Context(), "", page.Request{Limit: 100})
	if err != nil || len(all.Items) != len(app.Demo) {
		t.Fatalf("%d products, %v", len(all.Items), err)
	}

	b, _ := setup(t)
	if _, err := b.Create(t.Context(), widget); err != nil {
		t.Fatal(err)
	}
	if n, err := b.LoadDemo(t.Context()); err != nil || n != 0 {
		t.Fatalf("LoadDemo into a catalog with a product = %d, %v; want 0", n, err)
	}
}

func TestReadsValidateTheirInput(t *testing.T) {
	a, _ := setup(t)
	var verr *validation.Error
	if _, err := a.Get(t.Context(), "a b"); !errors.As(err, &verr) || verr.Field != "id" {
		t.Errorf("Get with a bad id: %v", err)
	}
	if _, err := a.List(t.Context(), strings.Repeat("c", 65), page.Request{Limit: 1}); !errors.As(err, &verr) || verr.Field != "category" {
		t.Errorf("List with a long category: %v", err)
	}
	if _, err := a.Create(t.Context(), widget); err != nil {
		t.Fatal(err)
	}
	if res, err := a.List(t.Context(), "Tools", page.Request{Limit: 10}); err != nil || len(res.Items) != 1 {
		t.Errorf("List Tools = %d, %v", len(res.Items), err)
	}
	if res, err := a.List(t.Context(), "Other", page.Request{Limit: 10}); err != nil || len(res.Items) != 0 {
		t.Errorf("List Other = %d, %v", len(res.Items), err)
	}
}
