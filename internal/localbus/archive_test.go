package localbus_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/localbus"
	"github.com/eventshop/eventshop/internal/waittest"
)

// archive runs the archiver until it wrote what the bus took so far.
func archive(t *testing.T, b *localbus.Bus) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // it writes what waits, then returns
	if err := b.Archive(ctx); err != nil {
		t.Fatal(err)
	}
}

// The archive keeps every event the bus took; a replay sends the ones of its
// range that the queue's rule matches (of one detail-type, if asked) to that
// queue again, oldest first, and says how far it got.
func TestReplaySendsTheArchivedEventsAgain(t *testing.T) {
	b := newBus(t)
	ctx := t.Context()
	before := time.Now().Add(-time.Second)
	a1, a2, b1, b2 := event(t, "src.a", "One", "a1"), event(t, "src.a", "Two", "a2"), event(t, "src.b", "Wanted", "b1"), event(t, "src.b", "Other", "b2")
	if err := b.Publish(ctx, []events.Outgoing{a1, b1, a2, b2}); err != nil {
		t.Fatal(err)
	}
	archive(t, b)
	middle := time.Now()
	late := event(t, "src.a", "One", "a3")
	if err := b.Publish(ctx, []events.Outgoing{late}); err != nil {
		t.Fatal(err)
	}
	archive(t, b)
	// drain consumes what queue holds and returns the ids of the events it
	// delivered, in order.
	drain := func(queue string) []string {
		t.Helper()
		var r recorder
		ctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = b.Consume(ctx, queue, r.handle) }()
		waittest.For(t, queue+" drained", func() bool { return depth(t, b, queue) == 0 })
		cancel()
		<-done
		var ids []string
		for _, m := range r.deliveries() {
			env, err := events.Unwrap(m.Body)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, env.ID)
		}
		return ids
	}
	drain("qa")
	drain("qb")

	var progress [][2]int
	sent, err := b.Replay(ctx, localbus.ReplayRequest{Queue: "qa", From: before, To: middle}, func(s, of int) { progress = append(progress, [2]int{s, of}) })
	if err != nil || sent != 2 {
		t.Fatalf("replay to qa → %d, %v; want a1 and a2", sent, err)
	}
	if len(progress) == 0 || progress[len(progress)-1] != [2]int{2, 4} {
		t.Fatalf("progress %v, want it to end at 2 sent of 4 archived in the range", progress)
	}
	if got := drain("qa"); len(got) != 2 || got[0] != a1.ID || got[1] != a2.ID {
		t.Fatalf("qa got %v, want %s then %s", got, a1.ID, a2.ID)
	}
	if sent, err := b.Replay(ctx, localbus.ReplayRequest{Queue: "qb", From: before, To: time.Now()}, nil); err != nil || sent != 1 {
		t.Fatalf("replay to qb → %d, %v; want b1 only (its rule takes Wanted)", sent, err)
	}
	if sent, err := b.Replay(ctx, localbus.ReplayRequest{Queue: "qa", From: before, To: time.Now(), DetailType: "One"}, nil); err != nil || sent != 2 {
		t.Fatalf("replay of One → %d, %v; want a1 and a3", sent, err)
	}
	var unknown *localbus.UnknownQueueError
	if _, err := b.Replay(ctx, localbus.ReplayRequest{Queue: "nope", From: before, To: time.Now()}, nil); !errors.As(err, &unknown) {
		t.Fatalf("unknown queue: %v", err)
	}
	if _, err := b.Replay(ctx, localbus.ReplayRequest{Queue: "qa", From: middle, To: before}, nil); !errors.Is(err, localbus.ErrBadRange) {
		t.Fatalf("a range that ends before it starts: %v", err)
	}
}

// The archive forgets what is older than its age, and the oldest beyond its size.
func TestTheArchiveIsBounded(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "bus.db"))
	t.Cleanup(func() { db.Close() })
	opts := fast
	opts.ArchiveBytes = 1500 // a few envelopes
	b := openBusWith(t, db, testRules, opts)
	ctx := t.Context()
	before := time.Now().Add(-time.Second)
	for i := range 20 {
		if err := b.Publish(ctx, []events.Outgoing{event(t, "src.a", "One", string(rune('a'+i)))}); err != nil {
			t.Fatal(err)
		}
	}
	archive(t, b)
	sent, err := b.Replay(ctx, localbus.ReplayRequest{Queue: "qa", From: before, To: time.Now()}, nil)
	if err != nil || sent == 0 || sent >= 20 {
		t.Fatalf("replay after the size bound → %d, %v; want the newest few only", sent, err)
	}
	var size int
	if err := db.QueryRowContext(ctx, `select coalesce(sum(length(body)), 0) from archive`).Scan(&size); err != nil || size > 1500 {
		t.Fatalf("the archive holds %d bytes, %v; want at most 1500", size, err)
	}

	opts = fast
	opts.ArchiveAge = time.Nanosecond // everything is old by the time it is written
	aged := openBusWith(t, openDB(t, filepath.Join(t.TempDir(), "bus.db")), testRules, opts)
	if err := aged.Publish(ctx, []events.Outgoing{event(t, "src.a", "One", "x")}); err != nil {
		t.Fatal(err)
	}
	archive(t, aged)
	if sent, err := aged.Replay(ctx, localbus.ReplayRequest{Queue: "qa", From: before, To: time.Now()}, nil); err != nil || sent != 0 {
		t.Fatalf("replay after the age bound → %d, %v; want nothing", sent, err)
	}
}

// A replay larger than one page of the archive sends every event in the
// range, page after page, and says its progress after each.
func TestAReplayGoesPastOnePage(t *testing.T) {
	b := newBus(t)
	ctx := t.Context()
	before := time.Now().Add(-time.Second)
	var evts []events.Outgoing
	for i := range 450 {
		evts = append(evts, event(t, "src.a", "One", fmt.Sprint(i)))
	}
	if err := b.Publish(ctx, evts); err != nil {
		t.Fatal(err)
	}
	archive(t, b)
	var progress [][2]int
	sent, err := b.Replay(ctx, localbus.ReplayRequest{Queue: "qa", From: before, To: time.Now()}, func(s, of int) { progress = append(progress, [2]int{s, of}) })
	if err != nil || sent != 450 {
		t.Fatalf("replay → %d, %v; want all 450", sent, err)
	}
	if len(progress) < 3 || progress[len(progress)-1] != [2]int{450, 450} {
		t.Fatalf("progress %v, want a report per page ending at 450 of 450", progress)
	}
	if n := depth(t, b, "qa"); n != 900 {
		t.Fatalf("qa holds %d messages, want the 450 published and the 450 replayed", n)
	}
}
