package outbox_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/outbox"
	"github.com/eventshop/eventshop/internal/sqlitedb"
	"github.com/eventshop/eventshop/internal/waittest"
)

type publisher struct {
	mu     sync.Mutex
	fail   bool
	got    []events.Outgoing
	during func() // runs inside Publish, once
}

func (p *publisher) Publish(_ context.Context, evts []events.Outgoing) error {
	if during := p.during; during != nil {
		p.during = nil
		during()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail {
		return errors.New("bus down")
	}
	p.got = append(p.got, evts...)
	return nil
}

func (p *publisher) Destination() eventbus.Destination {
	return eventbus.Destination{System: eventbus.SystemLocalBus, Name: "test"}
}

func (p *publisher) ids() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	ids := make([]string, len(p.got))
	for i, e := range p.got {
		ids[i] = e.ID
	}
	return ids
}

func add(t *testing.T, db *sql.DB, ob *outbox.Outbox, n int) []string {
	t.Helper()
	var ids []string
	err := sqlitedb.InTx(context.Background(), db, func(tx *sql.Tx) error {
		for range n {
			e, _ := events.New(context.Background(), "s", "T", map[string]int{}, time.Now())
			ids = append(ids, e.ID)
			if err := ob.Add(context.Background(), tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ob.Committed()
	return ids
}

func TestFlushKeepsEventsUntilPublished(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.db")
	db, err := sqlitedb.Open(ctx, path, outbox.Schema)
	if err != nil {
		t.Fatal(err)
	}
	ob := outbox.New(db)
	want := add(t, db, ob, 3)
	pub := &publisher{fail: true}
	if _, err := ob.Flush(ctx, pub); err == nil {
		t.Fatal("Flush hid the publisher's failure")
	}
	db.Close() // the process dies before the bus came back

	db, err = sqlitedb.Open(ctx, path, outbox.Schema)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ob = outbox.New(db)
	pub.fail = false
	n, err := ob.Flush(ctx, pub)
	if err != nil || n != 3 {
		t.Fatalf("Flush = %d, %v; want 3", n, err)
	}
	got := pub.ids()
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("published %v, want in commit order %v", got, want)
		}
	}
	if p, _ := ob.Pending(ctx); p != 0 {
		t.Fatalf("%d events still pending", p)
	}
}

// The outbox numbers events by rowid, which SQLite may give again once the
// table is empty: an event committed while the relay publishes, and one after
// the outbox emptied, are still relayed, each once.
func TestEventsAfterAFlushAreRelayedOnce(t *testing.T) {
	ctx := context.Background()
	db, err := sqlitedb.Open(ctx, filepath.Join(t.TempDir(), "x.db"), outbox.Schema)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ob := outbox.New(db)
	want := add(t, db, ob, 2)
	pub := &publisher{}
	pub.during = func() { want = append(want, add(t, db, ob, 1)...) } // committed between the relay's read and its delete
	for {
		n, err := ob.Flush(ctx, pub)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	want = append(want, add(t, db, ob, 2)...) // into the emptied outbox
	if _, err := ob.Flush(ctx, pub); err != nil {
		t.Fatal(err)
	}
	if got := pub.ids(); !slices.Equal(got, want) {
		t.Fatalf("published %v, want each once, in commit order: %v", got, want)
	}
}

func TestRelayWakesOnCommit(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	db, err := sqlitedb.Open(ctx, filepath.Join(t.TempDir(), "x.db"), outbox.Schema)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ob := outbox.New(db)
	pub := &publisher{}
	done := make(chan struct{})
	go func() {
		ob.Relay(ctx, pub, time.Hour, slog.New(slog.DiscardHandler)) // no polling: only a wake-up can move events
		close(done)
	}()
	ids := add(t, db, ob, 250) // more than one batch
	waittest.For(t, "every event relayed", func() bool { return len(pub.ids()) >= len(ids) })
	cancel()
	<-done
	if got := len(pub.ids()); got != len(ids) {
		t.Fatalf("relayed %d of %d events", got, len(ids))
	}
}

// The relay publishes each event as it was added: its id, source, type,
// time and detail, byte for byte.
func TestFlushPublishesTheEventAsAdded(t *testing.T) {
	db, err := sqlitedb.Open(t.Context(), filepath.Join(t.TempDir(), "o.db"), outbox.Schema)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ob := outbox.New(db)
	e, err := events.New(context.Background(), "eventshop.basket", "CheckoutBasket", map[string]any{"name": "Café «x» \"q\" <b>&", "price": 19.99, "lines": []int{1, 2}},
		time.Date(2026, 11, 28, 19, 0, 0, 123456789, time.FixedZone("CET", 3600)))
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlitedb.InTx(t.Context(), db, func(tx *sql.Tx) error { return ob.Add(t.Context(), tx, e) }); err != nil {
		t.Fatal(err)
	}
	var p publisher
	if _, err := ob.Flush(t.Context(), &p); err != nil {
		t.Fatal(err)
	}
	if len(p.got) != 1 {
		t.Fatalf("published %d events, want 1", len(p.got))
	}
	got := p.got[0]
	if got.ID != e.ID || got.Source != e.Source || got.DetailType != e.DetailType || !got.Time.Equal(e.Time) || string(got.Detail) != string(e.Detail) {
		t.Errorf("published %+v (detail %s)\nadded     %+v (detail %s)", got, got.Detail, e, e.Detail)
	}
}
