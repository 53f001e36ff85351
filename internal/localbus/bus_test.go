package localbus_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/localbus"
	"github.com/eventshop/eventshop/internal/sqlitedb"
	"github.com/eventshop/eventshop/internal/waittest"
)

var testRules = []eventbus.Rule{
	{Name: "A", Pattern: eventbus.MustPattern(`{"source":["src.a"]}`), Queue: "qa", BatchSize: 10, MaxReceives: 3, ConsumerTimeout: time.Second},
	{Name: "B", Pattern: eventbus.SourceAndTypes("src.b", "Wanted"), Queue: "qb", BatchSize: 2, MaxReceives: 3, ConsumerTimeout: time.Second},
}

var fast = localbus.Options{RetryDelay: 10 * time.Millisecond, PollInterval: 10 * time.Millisecond, VisibilityTimeout: 200 * time.Millisecond}

func openDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sqlitedb.Open(t.Context(), path, "select 1")
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func openBus(t *testing.T, db *sql.DB) *localbus.Bus {
	t.Helper()
	return openBusWith(t, db, testRules, fast)
}

func openBusWith(t *testing.T, db *sql.DB, rules []eventbus.Rule, opts localbus.Options) *localbus.Bus {
	t.Helper()
	b, err := localbus.Open(t.Context(), db, rules, opts, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newBus(t *testing.T) *localbus.Bus {
	db := openDB(t, filepath.Join(t.TempDir(), "bus.db"))
	t.Cleanup(func() { db.Close() })
	return openBus(t, db)
}

func event(t *testing.T, source, detailType, id string) events.Outgoing {
	t.Helper()
	e, err := events.New(context.Background(), source, detailType, map[string]string{"n": id}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// recorder is a Handler that records what it saw and fails the message ids fail says.
type recorder struct {
	mu      sync.Mutex
	seen    []awsevents.SQSMessage
	batches []int
	fail    func(m awsevents.SQSMessage, receives int) bool
}

func (r *recorder) handle(_ context.Context, ev awsevents.SQSEvent, _ func(string, error)) (awsevents.SQSEventResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, len(ev.Records))
	var resp awsevents.SQSEventResponse
	for _, m := range ev.Records {
		r.seen = append(r.seen, m)
		n := 0
		for _, s := range r.seen {
			if s.MessageId == m.MessageId {
				n++
			}
		}
		if r.fail != nil && r.fail(m, n) {
			resp.BatchItemFailures = append(resp.BatchItemFailures, awsevents.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp, nil
}

// deliveries returns the messages r saw so far, in order.
func (r *recorder) deliveries() []awsevents.SQSMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen)
}

func (r *recorder) details() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, m := range r.seen {
		e, err := events.Unwrap(m.Body)
		if err != nil {
			panic(err)
		}
		out = append(out, string(e.Detail))
	}
	return out
}

// waitIdle waits until b has nothing left to do: what has not happened by
// then will not.
func waitIdle(t *testing.T, b *localbus.Bus) {
	t.Helper()
	waittest.For(t, "the bus idle", func() bool {
		idle, err := b.Idle(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return idle
	})
}

func consume(t *testing.T, b *localbus.Bus, queue string, h localbus.Handler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := b.Consume(ctx, queue, h); err != nil {
			t.Error(err)
		}
	}()
	return func() { cancel(); <-done }
}

func depth(t *testing.T, b *localbus.Bus, q string) int {
	t.Helper()
	n, err := b.Depth(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRoutingByPattern(t *testing.T) {
	b := newBus(t)
	err := b.Publish(t.Context(), []events.Outgoing{
		event(t, "src.a", "Anything", "1"),
		event(t, "src.b", "Wanted", "2"),
		event(t, "src.b", "Unwanted", "3"),
		event(t, "src.c", "Wanted", "4"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := depth(t, b, "qa"); got != 1 {
		t.Errorf("qa depth = %d, want 1", got)
	}
	if got := depth(t, b, "qb"); got != 1 {
		t.Errorf("qb depth = %d, want 1", got)
	}
	var rec recorder
	stop := consume(t, b, "qb", rec.handle)
	waittest.For(t, "delivery", func() bool { return depth(t, b, "qb") == 0 })
	stop()
	got := rec.details()
	if len(got) != 1 || got[0] != `{"n":"2"}` {
		t.Fatalf("qb consumer saw %v", got)
	}
	env, _ := events.Unwrap(rec.deliveries()[0].Body)
	if env.Source != "src.b" || env.DetailType != "Wanted" || env.Version != "0" || env.AccountID == "" || env.Region == "" {
		t.Fatalf("envelope %+v is not EventBridge-shaped", env)
	}
}

func TestRedeliveryAfterFailure(t *testing.T) {
	b := newBus(t)
	rec := recorder{fail: func(_ awsevents.SQSMessage, n int) bool { return n == 1 }}
	if err := b.Publish(t.Context(), []events.Outgoing{event(t, "src.a", "X", "1")}); err != nil {
		t.Fatal(err)
	}
	stop := consume(t, b, "qa", rec.handle)
	waittest.For(t, "success on second receive", func() bool { return depth(t, b, "qa") == 0 })
	stop()
	if len(rec.deliveries()) != 2 || rec.deliveries()[1].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("want 2 deliveries, the second with receive count 2; got %d: %+v", len(rec.deliveries()), rec.deliveries())
	}
}

func TestPartialBatchRedeliversOnlyFailed(t *testing.T) {
	b := newBus(t)
	rec := recorder{fail: func(m awsevents.SQSMessage, n int) bool {
		e, _ := events.Unwrap(m.Body)
		return string(e.Detail) == `{"n":"2"}` && n == 1
	}}
	if err := b.Publish(t.Context(), []events.Outgoing{event(t, "src.a", "X", "1"), event(t, "src.a", "X", "2"), event(t, "src.a", "X", "3")}); err != nil {
		t.Fatal(err)
	}
	stop := consume(t, b, "qa", rec.handle)
	waittest.For(t, "queue drained", func() bool { return depth(t, b, "qa") == 0 })
	stop()
	count := map[string]int{}
	for _, d := range rec.details() {
		count[d]++
	}
	want := map[string]int{`{"n":"1"}`: 1, `{"n":"2"}`: 2, `{"n":"3"}`: 1}
	for k, v := range want {
		if count[k] != v {
			t.Errorf("%s delivered %d times, want %d", k, count[k], v)
		}
	}
}

func TestBatchSize(t *testing.T) {
	b := newBus(t)
	for i := range 5 {
		if err := b.Publish(t.Context(), []events.Outgoing{event(t, "src.b", "Wanted", string(rune('a'+i)))}); err != nil {
			t.Fatal(err)
		}
	}
	var rec recorder
	stop := consume(t, b, "qb", rec.handle)
	waittest.For(t, "queue drained", func() bool { return depth(t, b, "qb") == 0 })
	stop()
	for _, n := range rec.batches {
		if n > 2 {
			t.Fatalf("batch of %d exceeds the rule's batch size 2", n)
		}
	}
}

func TestErrorFailsWholeBatch(t *testing.T) {
	b := newBus(t)
	calls := 0
	h := func(context.Context, awsevents.SQSEvent, func(string, error)) (awsevents.SQSEventResponse, error) {
		calls++
		if calls == 1 {
			return awsevents.SQSEventResponse{}, io.ErrUnexpectedEOF
		}
		if calls == 2 {
			panic("boom")
		}
		return awsevents.SQSEventResponse{}, nil
	}
	if err := b.Publish(t.Context(), []events.Outgoing{event(t, "src.a", "X", "1")}); err != nil {
		t.Fatal(err)
	}
	stop := consume(t, b, "qa", h)
	waittest.For(t, "queue drained", func() bool { return depth(t, b, "qa") == 0 })
	stop()
	if calls != 3 {
		t.Fatalf("handler called %d times, want 3 (error, panic, success)", calls)
	}
}

func TestDeadLetterAndRedrive(t *testing.T) {
	b := newBus(t)
	poison := true
	var mu sync.Mutex
	rec := recorder{fail: func(awsevents.SQSMessage, int) bool { mu.Lock(); defer mu.Unlock(); return poison }}
	if err := b.Publish(t.Context(), []events.Outgoing{event(t, "src.a", "X", "1")}); err != nil {
		t.Fatal(err)
	}
	stop := consume(t, b, "qa", rec.handle)
	waittest.For(t, "dead letter", func() bool { return depth(t, b, "qa-dlq") == 1 })
	stop()
	if len(rec.deliveries()) != 3 {
		t.Fatalf("delivered %d times before dead-lettering, want MaxReceives = 3", len(rec.deliveries()))
	}
	dl, err := b.DeadLetters(t.Context(), "qa")
	if err != nil || len(dl) != 1 {
		t.Fatalf("DeadLetters = %v, %v", dl, err)
	}
	mu.Lock()
	poison = false
	mu.Unlock()
	n, err := b.Redrive(t.Context(), "qa")
	if err != nil || n != 1 {
		t.Fatalf("Redrive = %d, %v", n, err)
	}
	stop = consume(t, b, "qa", rec.handle)
	waittest.For(t, "redriven message consumed", func() bool { return depth(t, b, "qa") == 0 })
	stop()
	if depth(t, b, "qa-dlq") != 0 || len(rec.deliveries()) != 4 {
		t.Fatalf("after redrive: dlq depth %d, deliveries %d", depth(t, b, "qa-dlq"), len(rec.deliveries()))
	}
}

func TestDurableAcrossRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bus.db")
	db := openDB(t, path)
	b := openBusWith(t, db, testRules, localbus.Options{PollInterval: 10 * time.Millisecond, VisibilityTimeout: time.Hour})
	if err := b.Publish(t.Context(), []events.Outgoing{event(t, "src.a", "X", "1"), event(t, "src.a", "X", "2")}); err != nil {
		t.Fatal(err)
	}
	// A consumer that dies mid-batch: it received the messages and never settled them.
	died := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_ = b.Consume(ctx, "qa", func(context.Context, awsevents.SQSEvent, func(string, error)) (awsevents.SQSEventResponse, error) {
			close(died)
			select {} // never returns: the process "dies" here
		})
	}()
	<-died
	cancel()
	db.Close() // the process is gone; its consumer goroutine stays blocked forever

	db = openDB(t, path)
	defer db.Close()
	// A visibility timeout far longer than the test: only the release of
	// in-flight messages at Open can bring them back in time.
	b = openBusWith(t, db, testRules, localbus.Options{RetryDelay: 10 * time.Millisecond, PollInterval: 10 * time.Millisecond, VisibilityTimeout: time.Hour})
	var rec recorder
	stop := consume(t, b, "qa", rec.handle)
	waittest.For(t, "redelivery after the restart", func() bool { return depth(t, b, "qa") == 0 })
	stop()
	got := rec.details()
	if len(got) != 2 {
		t.Fatalf("after restart delivered %v, want both messages", got)
	}
	if rec.deliveries()[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("receive count = %s, want 2", rec.deliveries()[0].Attributes["ApproximateReceiveCount"])
	}
}

func TestDuplicatePublishIsDeliveredWithSameEventID(t *testing.T) {
	b := newBus(t)
	e := event(t, "src.a", "X", "1")
	for range 2 { // a relay that crashed after publishing and before deleting publishes again
		if err := b.Publish(t.Context(), []events.Outgoing{e}); err != nil {
			t.Fatal(err)
		}
	}
	var rec recorder
	stop := consume(t, b, "qa", rec.handle)
	waittest.For(t, "both deliveries", func() bool { return depth(t, b, "qa") == 0 })
	stop()
	if len(rec.deliveries()) != 2 {
		t.Fatalf("delivered %d, want 2 (at least once)", len(rec.deliveries()))
	}
	a, _ := events.Unwrap(rec.deliveries()[0].Body)
	c, _ := events.Unwrap(rec.deliveries()[1].Body)
	if a.ID != e.ID || c.ID != e.ID {
		t.Fatalf("envelope ids %s, %s; want both %s so consumers can tell duplicates", a.ID, c.ID, e.ID)
	}
}

func TestVisibilityTimeoutRedeliversWhileRunning(t *testing.T) {
	b := newBus(t) // visibility timeout 200ms
	if err := b.Publish(t.Context(), []events.Outgoing{event(t, "src.a", "X", "1")}); err != nil {
		t.Fatal(err)
	}
	// A consumer that hangs past the visibility timeout: the message is received
	// again by the next poll, as on SQS.
	var mu sync.Mutex
	calls := 0
	release := make(chan struct{})
	h := func(ctx context.Context, ev awsevents.SQSEvent, _ func(string, error)) (awsevents.SQSEventResponse, error) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			<-release
		}
		return awsevents.SQSEventResponse{}, nil
	}
	stopA := consume(t, b, "qa", h)
	stopB := consume(t, b, "qa", h) // a second worker on the same queue
	waittest.For(t, "redelivery to the second worker", func() bool { mu.Lock(); defer mu.Unlock(); return calls == 2 })
	close(release)
	stopA()
	stopB()
}

func TestOpenRefusesConfigurationThatWouldStopAQueue(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "bus.db"))
	defer db.Close()
	stalled := testRules[0]
	stalled.BatchSize = 0
	twice := testRules[1]
	twice.Queue = testRules[0].Queue
	for name, c := range map[string]struct {
		rules []eventbus.Rule
		opts  localbus.Options
	}{
		"batch size 0":         {[]eventbus.Rule{stalled}, fast},
		"two rules, one queue": {[]eventbus.Rule{testRules[0], twice}, fast},
		"negative retry delay": {testRules, localbus.Options{RetryDelay: -time.Second}},
		"negative poll":        {testRules, localbus.Options{PollInterval: -time.Second}},
		"negative visibility":  {testRules, localbus.Options{VisibilityTimeout: -time.Second}},
	} {
		if _, err := localbus.Open(t.Context(), db, c.rules, c.opts, slog.New(slog.DiscardHandler)); err == nil {
			t.Errorf("%s: Open succeeded", name)
		}
	}
}

func TestDeadLetterTools(t *testing.T) {
	b := newBus(t)
	rec := recorder{fail: func(awsevents.SQSMessage, int) bool { return true }}
	if err := b.Publish(t.Context(), []events.Outgoing{event(t, "src.a", "X", "1"), event(t, "src.a", "X", "2"), event(t, "src.a", "X", "3")}); err != nil {
		t.Fatal(err)
	}
	stop := consume(t, b, "qa", rec.handle)
	waittest.For(t, "three dead letters", func() bool { return depth(t, b, "qa-dlq") == 3 })
	stop()
	dl, err := b.DeadLetters(t.Context(), "qa")
	if err != nil || len(dl) != 3 || dl[0].Body == nil || dl[0].Raw != "" {
		t.Fatalf("DeadLetters = %+v, %v", dl, err)
	}
	one, err := b.DeadLetter(t.Context(), "qa", dl[1].ID)
	if err != nil || string(one.Body) != string(dl[1].Body) {
		t.Fatalf("DeadLetter = %+v, %v", one, err)
	}
	if err := b.DeleteDeadLetter(t.Context(), "qa", dl[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteDeadLetter(t.Context(), "qa", dl[0].ID); !errors.Is(err, localbus.ErrNoDeadLetter) {
		t.Fatalf("deleting it again: %v", err)
	}
	if _, err := b.DeadLetter(t.Context(), "qa", dl[0].ID); !errors.Is(err, localbus.ErrNoDeadLetter) {
		t.Fatalf("reading a deleted dead letter: %v", err)
	}
	if n, err := b.Redrive(t.Context(), "qa", dl[1].ID, "m_missing"); !errors.Is(err, localbus.ErrNoDeadLetter) || depth(t, b, "qa-dlq") != 2 {
		t.Fatalf("Redrive with a missing id = %d, %v; dlq depth %d (want nothing moved)", n, err, depth(t, b, "qa-dlq"))
	}
	if n, err := b.Redrive(t.Context(), "qa", dl[1].ID); err != nil || n != 1 || depth(t, b, "qa-dlq") != 1 || depth(t, b, "qa") != 1 {
		t.Fatalf("Redrive one = %d, %v", n, err)
	}
	stats, err := b.Stats(t.Context())
	if err != nil || len(stats) != 2 || stats[0] != (localbus.QueueStats{Queue: "qa", DeadLetterQueue: "qa-dlq", Messages: 1, DeadLetters: 1}) {
		t.Fatalf("Stats = %+v, %v", stats, err)
	}
	var unknown *localbus.UnknownQueueError
	if _, err := b.DeadLetters(t.Context(), "nope"); !errors.As(err, &unknown) || !strings.Contains(err.Error(), "qa, qb") {
		t.Fatalf("unknown queue: %v, want the queues listed", err)
	}
}

// A dead letter that is not JSON (sent by hand, or corrupted) is listed raw.
func TestDeadLetterThatIsNotJSON(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "bus.db"))
	defer db.Close()
	b := openBus(t, db)
	if _, err := db.ExecContext(t.Context(), `insert into goqite (queue, body) values ('qa-dlq', cast('not json {' as blob))`); err != nil {
		t.Fatal(err)
	}
	dl, err := b.DeadLetters(t.Context(), "qa")
	if err != nil || len(dl) != 1 || dl[0].Raw != "not json {" || dl[0].Body != nil {
		t.Fatalf("DeadLetters = %+v, %v", dl, err)
	}
	if _, err := json.Marshal(dl); err != nil {
		t.Fatalf("a raw dead letter does not encode: %v", err)
	}
}

func TestZeroOptionsMeanTheirDefaults(t *testing.T) {
	if err := (localbus.Options{}).Validate(); err != nil {
		t.Fatalf("zero options: %v", err)
	}
	db := openDB(t, filepath.Join(t.TempDir(), "bus.db"))
	defer db.Close()
	if _, err := localbus.Open(t.Context(), db, testRules, localbus.Options{}, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("Open with zero options: %v", err)
	}
}

// An idle consumer does not wait for its next poll: a publish or a redrive
// wakes it, and it goes on receiving while there is more than one batch.
func TestPublishAndRedriveWakeAnIdleConsumer(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "bus.db"))
	defer db.Close()
	b := openBusWith(t, db, testRules, localbus.Options{PollInterval: time.Hour, VisibilityTimeout: time.Hour})
	var rec recorder
	stop := consume(t, b, "qb", rec.handle)
	defer stop()
	// One message first, so that the consumer has surely gone idle before the rest.
	if err := b.Publish(t.Context(), []events.Outgoing{event(t, "src.b", "Wanted", "first")}); err != nil {
		t.Fatal(err)
	}
	waittest.For(t, "the first message", func() bool { return len(rec.details()) == 1 })
	waittest.For(t, "the consumer to wait", func() bool { return localbus.Waiting(b, "qb") })
	var evts []events.Outgoing
	for i := range 5 { // batches of 2 for qb
		evts = append(evts, event(t, "src.b", "Wanted", fmt.Sprint(i)))
	}
	if err := b.Publish(t.Context(), evts); err != nil {
		t.Fatal(err)
	}
	waittest.For(t, "five messages in three batches", func() bool { return len(rec.details()) == 6 })
	rec.mu.Lock()
	if slices.Max(rec.batches) > 2 {
		t.Errorf("batches of %v, want none over qb's batch size of 2, handed or received", rec.batches)
	}
	rec.mu.Unlock()
	if _, err := db.ExecContext(t.Context(), `insert into goqite (queue, body) values ('qb-dlq', ?)`, []byte(`{"source":"src.b","detail-type":"Wanted","detail":{}}`)); err != nil {
		t.Fatal(err)
	}
	if n, err := b.Redrive(t.Context(), "qb"); err != nil || n != 1 {
		t.Fatalf("Redrive = %d, %v", n, err)
	}
	waittest.For(t, "the redriven message", func() bool { return len(rec.details()) == 7 })
}

// When one message of a batch goes to the dead-letter queue, the rest of the
// batch is settled in the same step: the good messages are deleted, not left
// to come back after the visibility timeout.
func TestDeadLetteringOneSettlesTheRest(t *testing.T) {
	// One receive only, so that the first batch (all three messages, published
	// together) is the poison's last: it goes to the dead-letter queue, and the
	// two good ones must be deleted in the same settlement.
	once := []eventbus.Rule{{Name: "Once", Pattern: eventbus.MustPattern(`{"source":["src.a"]}`), Queue: "qa", BatchSize: 10, MaxReceives: 1, ConsumerTimeout: time.Second}}
	db := openDB(t, filepath.Join(t.TempDir(), "bus.db"))
	defer db.Close()
	b := openBusWith(t, db, once, localbus.Options{RetryDelay: 10 * time.Millisecond, PollInterval: 10 * time.Millisecond, VisibilityTimeout: time.Hour})
	rec := recorder{fail: func(m awsevents.SQSMessage, _ int) bool {
		e, _ := events.Unwrap(m.Body)
		return strings.Contains(string(e.Detail), "poison")
	}}
	if err := b.Publish(t.Context(), []events.Outgoing{event(t, "src.a", "X", "poison"), event(t, "src.a", "X", "good1"), event(t, "src.a", "X", "good2")}); err != nil {
		t.Fatal(err)
	}
	stop := consume(t, b, "qa", rec.handle)
	defer stop()
	waittest.For(t, "the poison in the dead-letter queue", func() bool { return depth(t, b, "qa-dlq") == 1 })
	rec.mu.Lock()
	batches := slices.Clone(rec.batches)
	rec.mu.Unlock()
	if n := depth(t, b, "qa"); n != 0 || len(batches) == 0 || batches[0] != 3 {
		t.Fatalf("%d good messages left in the queue after their batch succeeded (batches %v)", n, batches)
	}
}

// Options.VisibilityTimeout replaces the rules' own: a message whose consumer
// hangs is delivered to another consumer after it, not after the rule's.
func TestVisibilityTimeoutOverride(t *testing.T) {
	slow := []eventbus.Rule{{Name: "Slow", Pattern: eventbus.MustPattern(`{"source":["src.a"]}`), Queue: "qa", BatchSize: 1, MaxReceives: 3, ConsumerTimeout: 15 * time.Minute}}
	db := openDB(t, filepath.Join(t.TempDir(), "bus.db"))
	defer db.Close()
	b := openBusWith(t, db, slow, localbus.Options{PollInterval: 10 * time.Millisecond, VisibilityTimeout: 100 * time.Millisecond})
	release := make(chan struct{})
	var mu sync.Mutex
	deliveries := 0
	hang := func(_ context.Context, ev awsevents.SQSEvent, _ func(string, error)) (awsevents.SQSEventResponse, error) {
		mu.Lock()
		deliveries++
		first := deliveries == 1
		mu.Unlock()
		if first {
			<-release // the first consumer hangs
		}
		return awsevents.SQSEventResponse{}, nil
	}
	stopA := consume(t, b, "qa", hang)
	var stopB func()
	defer func() { // either consumer may be the one hanging
		close(release)
		stopA()
		if stopB != nil {
			stopB()
		}
	}()
	if err := b.Publish(t.Context(), []events.Outgoing{event(t, "src.a", "X", "1")}); err != nil {
		t.Fatal(err)
	}
	stopB = consume(t, b, "qa", hang)
	// The rule's own visibility timeout is 90 minutes: only the override lets this pass.
	waittest.For(t, "delivery to the second consumer", func() bool { mu.Lock(); defer mu.Unlock(); return deliveries == 2 })
}

// Rules route by content, in EventBridge's pattern language: only the
// cancellations from RESERVED or PAID reach the release queue.
func TestContentFilteredRouting(t *testing.T) {
	rules := []eventbus.Rule{{
		Name: "Release", Queue: "release", BatchSize: 10, MaxReceives: 3, ConsumerTimeout: time.Second,
		Pattern: eventbus.MustPattern(`{"source":["shop.ordering"],"detail-type":["OrderCancelled"],"detail":{"from":["RESERVED","PAID"],"lines":{"quantity":[{"numeric":[">",0]}]}}}`),
	}}
	db := openDB(t, filepath.Join(t.TempDir(), "bus.db"))
	defer db.Close()
	b := openBusWith(t, db, rules, fast)
	cancelled := func(from string) events.Outgoing {
		e, err := events.New(context.Background(), "shop.ordering", "OrderCancelled", map[string]any{"from": from, "lines": []map[string]int{{"quantity": 2}}}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	if err := b.Publish(t.Context(), []events.Outgoing{cancelled("PLACED"), cancelled("RESERVED"), cancelled("PAID"), cancelled("SHIPPED")}); err != nil {
		t.Fatal(err)
	}
	var rec recorder
	stop := consume(t, b, "release", rec.handle)
	waittest.For(t, "two cancellations", func() bool { return len(rec.details()) == 2 })
	stop()
	got := rec.details()
	if !strings.Contains(got[0], `"RESERVED"`) || !strings.Contains(got[1], `"PAID"`) || depth(t, b, "release") != 0 {
		t.Fatalf("routed %v", got)
	}
}

// A dead letter keeps why it failed the last time: the reason HandleBatch
// gave, or the batch's error; a redrive starts it afresh.
func TestDeadLettersKeepTheirLastError(t *testing.T) {
	b := newBus(t)
	if err := b.Publish(t.Context(), []events.Outgoing{event(t, "src.a", "X", "1")}); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	failing := func(ctx context.Context, ev awsevents.SQSEvent, report func(string, error)) (awsevents.SQSEventResponse, error) {
		return eventbus.HandleBatch(ctx, ev, slog.New(slog.DiscardHandler), func(context.Context, events.Envelope) error {
			return fmt.Errorf("store down (try %d)", calls.Add(1))
		}, eventbus.ReportFailures(report)), nil
	}
	stop := consume(t, b, "qa", failing)
	waittest.For(t, "dead letter", func() bool { return depth(t, b, "qa-dlq") == 1 })
	stop()
	dl, err := b.DeadLetters(t.Context(), "qa")
	if err != nil || len(dl) != 1 || dl[0].LastError != "store down (try 3)" {
		t.Fatalf("dead letters %+v, %v; want the third failure's reason", dl, err)
	}
	if one, err := b.DeadLetter(t.Context(), "qa", dl[0].ID); err != nil || one.LastError != dl[0].LastError {
		t.Fatalf("DeadLetter = %+v, %v", one, err)
	}
	if _, err := b.Redrive(t.Context(), "qa"); err != nil {
		t.Fatal(err)
	}
	if n := localbus.FailureRows(b); n != 0 {
		t.Fatalf("%d failure reasons kept after redriving every dead letter, want their past forgotten", n)
	}
	stop = consume(t, b, "qa", func(context.Context, awsevents.SQSEvent, func(string, error)) (awsevents.SQSEventResponse, error) {
		return awsevents.SQSEventResponse{}, errors.New("the whole batch fails")
	})
	waittest.For(t, "dead letter again", func() bool { return depth(t, b, "qa-dlq") == 1 })
	stop()
	if dl, err = b.DeadLetters(t.Context(), "qa"); err != nil || len(dl) != 1 || dl[0].LastError != "the consumer failed the batch: the whole batch fails" {
		t.Fatalf("after a redrive and new failures: %+v, %v", dl, err)
	}
	if err := b.DeleteDeadLetter(t.Context(), "qa", dl[0].ID); err != nil {
		t.Fatal(err)
	}
	if n := localbus.FailureRows(b); n != 0 {
		t.Fatalf("%d failure reasons kept after the dead letter was deleted", n)
	}
}

// Redriving one dead letter forgets its failures and no other's; a message
// that fails and then succeeds leaves no failure behind.
func TestFailuresAreForgottenWithTheirMessage(t *testing.T) {
	b := newBus(t)
	if err := b.Publish(t.Context(), []events.Outgoing{event(t, "src.a", "X", "1"), event(t, "src.a", "X", "2")}); err != nil {
		t.Fatal(err)
	}
	stop := consume(t, b, "qa", func(context.Context, awsevents.SQSEvent, func(string, error)) (awsevents.SQSEventResponse, error) {
		return awsevents.SQSEventResponse{}, errors.New("down")
	})
	waittest.For(t, "two dead letters", func() bool { return depth(t, b, "qa-dlq") == 2 })
	stop()
	dl, err := b.DeadLetters(t.Context(), "qa")
	if err != nil || len(dl) != 2 {
		t.Fatalf("dead letters %+v, %v", dl, err)
	}
	if n, err := b.Redrive(t.Context(), "qa", dl[0].ID); err != nil || n != 1 {
		t.Fatalf("Redrive one = %d, %v", n, err)
	}
	if left, err := b.DeadLetter(t.Context(), "qa", dl[1].ID); err != nil || left.LastError == "" {
		t.Fatalf("the dead letter not redriven lost its reason: %+v, %v", left, err)
	}
	if n := localbus.FailureRows(b); n != 1 {
		t.Fatalf("%d failure reasons kept, want the one of the dead letter not redriven", n)
	}
	var tries atomic.Int32
	defer consume(t, b, "qa", func(_ context.Context, ev awsevents.SQSEvent, _ func(string, error)) (awsevents.SQSEventResponse, error) {
		if tries.Add(1) == 1 {
			return awsevents.SQSEventResponse{}, errors.New("once more")
		}
		return awsevents.SQSEventResponse{}, nil
	})()
	waitIdle(t, b)
	if n := localbus.FailureRows(b); n != 1 || tries.Load() != 2 {
		t.Fatalf("%d failure reasons kept after %d tries, want only the dead letter's", n, tries.Load())
	}
}

// A consumer waiting for work is handed what is published: no commit of its
// own before it runs the batch. One that takes longer than HandOffWait has
// its messages written by the publish as received, in flight: they come back
// when the bus reopens after a crash before they were settled, one receive
// counted.
func TestAWaitingConsumerIsHandedItsMessages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bus.db")
	db := openDB(t, path)
	defer db.Close()
	b := openBusWith(t, db, testRules, localbus.Options{PollInterval: time.Hour, VisibilityTimeout: time.Hour})
	got, release := make(chan awsevents.SQSEvent, 1), make(chan struct{})
	stop := consume(t, b, "qa", func(_ context.Context, ev awsevents.SQSEvent, _ func(string, error)) (awsevents.SQSEventResponse, error) {
		got <- ev
		<-release
		return awsevents.SQSEventResponse{}, nil
	})
	waittest.For(t, "the consumer to wait", func() bool { return localbus.Waiting(b, "qa") })
	before := sqlitedb.Commits(db)
	if err := b.Publish(t.Context(), []events.Outgoing{event(t, "src.a", "T", "1"), event(t, "src.a", "T", "2")}); err != nil {
		t.Fatal(err)
	}
	ev := <-got
	if n := sqlitedb.Commits(db) - before; n != 1 || len(ev.Records) != 2 {
		t.Fatalf("%d commits before the consumer ran a batch of %d; want only the publish's, and both messages", n, len(ev.Records))
	}
	all, err := b.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if qa := all[0]; qa.Messages != 2 || qa.InFlight != 2 {
		t.Fatalf("while handled: %+v, want both in flight", qa)
	}
	// The process dies here: the batch is never settled.
	b2 := openBus(t, db)
	r := &recorder{}
	defer consume(t, b2, "qa", r.handle)()
	waittest.For(t, "the handed messages again", func() bool { return len(r.details()) == 2 })
	for _, m := range r.seen {
		if m.Attributes["ApproximateReceiveCount"] != "2" {
			t.Fatalf("redelivered with receive count %s, want 2", m.Attributes["ApproximateReceiveCount"])
		}
	}
	close(release)
	stop()
}

// countInserts makes db count the messages written to any queue.
func countInserts(t *testing.T, db *sql.DB) func() int {
	t.Helper()
	if _, err := db.ExecContext(t.Context(), `create table sent (id text);
create trigger count_sent after insert on goqite begin insert into sent values (new.id); end;`); err != nil {
		t.Fatal(err)
	}
	return func() int {
		var n int
		if err := db.QueryRowContext(t.Context(), `select count(*) from sent`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
}

// A message handed to a waiting consumer that runs it without failing, in
// HandOffWait, is settled before the publish writes anything, and so never
// written: a publish with nothing else to write ends even while another
// writer holds the database. One that fails is written once, as a settlement
// would leave it, and comes again after RetryDelay.
func TestAHandedMessageIsWrittenOnlyIfItFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bus.db")
	db := openDB(t, path)
	defer db.Close()
	b := openBusWith(t, db, testRules, localbus.Options{PollInterval: time.Hour, HandOffWait: time.Hour})
	sent := countInserts(t, db)
	r := &recorder{}
	stop := consume(t, b, "qa", r.handle)
	waittest.For(t, "the consumer to wait", func() bool { return localbus.Waiting(b, "qa") })
	other := openDB(t, path)
	defer other.Close()
	lock, err := other.BeginTx(t.Context(), nil) // immediate: the write lock
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(t.Context(), []events.Outgoing{event(t, "src.a", "T", "ok")}); err != nil {
		t.Fatal(err)
	}
	if got := r.details(); !slices.Equal(got, []string{`{"n":"ok"}`}) {
		t.Fatalf("handled %v before the publish ended, want the message", got)
	}
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	stop()
	if n := sent(); n != 0 {
		t.Fatalf("%d messages written, want none", n)
	}

	// A visibility timeout of an hour: a failed message written as in flight
	// would not come again during the test.
	b = openBusWith(t, db, testRules, localbus.Options{PollInterval: 10 * time.Millisecond, HandOffWait: time.Hour,
		RetryDelay: 10 * time.Millisecond, VisibilityTimeout: time.Hour})
	r = &recorder{fail: func(_ awsevents.SQSMessage, receives int) bool { return receives == 1 }}
	defer consume(t, b, "qa", r.handle)()
	waittest.For(t, "the consumer to wait", func() bool { return localbus.Waiting(b, "qa") })
	if err := b.Publish(t.Context(), []events.Outgoing{event(t, "src.a", "T", "fails")}); err != nil {
		t.Fatal(err)
	}
	waittest.For(t, "the failed message again", func() bool { return len(r.details()) == 2 })
	if n := sent(); n != 1 {
		t.Fatalf("%d messages written, want the failed one", n)
	}
	if got := r.deliveries()[1].Attributes["ApproximateReceiveCount"]; got != "2" {
		t.Fatalf("the failed message came again with receive count %s, want 2", got)
	}
	waittest.For(t, "the queue to empty", func() bool {
		n, err := b.Depth(t.Context(), "qa")
		return err == nil && n == 0
	})
}

// A consumer that ran what it was handed after the publish stopped waiting
// settles it only once the publish has written it: settled earlier, the
// message would not yet exist, and would then stay in flight and come again
// after its visibility timeout.
func TestALateHandedBatchIsSettledAfterThePublishWroteIt(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "bus.db"))
	defer db.Close()
	b := openBusWith(t, db, testRules, localbus.Options{PollInterval: 10 * time.Millisecond, HandOffWait: time.Millisecond, VisibilityTimeout: 100 * time.Millisecond})
	sent := countInserts(t, db)
	r := &recorder{}
	stoppedWaiting, settling := make(chan struct{}), make(chan struct{})
	defer consume(t, b, "qa", func(ctx context.Context, ev awsevents.SQSEvent, _ func(string, error)) (awsevents.SQSEventResponse, error) {
		<-stoppedWaiting // run after the publish stopped waiting for it
		return r.handle(ctx, ev, nil)
	})()
	localbus.SettlingOwn(b, func() { close(settling) })
	waittest.For(t, "the consumer to wait", func() bool { return localbus.Waiting(b, "qa") })
	localbus.BeforePublishTx(b, func() {
		close(stoppedWaiting)
		select {
		case <-settling: // the consumer has run the batch, and waits to settle it
		case <-time.After(10 * time.Second):
			t.Error("the consumer never came to settle the batch the publish stopped waiting for")
		}
	})
	if err := b.Publish(t.Context(), []events.Outgoing{event(t, "src.a", "T", "1")}); err != nil {
		t.Fatal(err)
	}
	if n := sent(); n != 1 {
		t.Fatalf("%d messages written, want the one its consumer settles", n)
	}
	// A message left in flight would keep the bus busy until it came again.
	waitIdle(t, b)
	if got := r.details(); len(got) != 1 {
		t.Fatalf("handled %v, want the message once", got)
	}
}

// A consumer that takes longer than HandOffWait does not hold the publish up.
func TestASlowHandedConsumerDoesNotHoldThePublish(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "bus.db"))
	defer db.Close()
	const wait = 20 * time.Millisecond
	b := openBusWith(t, db, testRules, localbus.Options{PollInterval: time.Hour, HandOffWait: wait})
	release := make(chan struct{})
	defer consume(t, b, "qa", func(context.Context, awsevents.SQSEvent, func(string, error)) (awsevents.SQSEventResponse, error) {
		<-release
		return awsevents.SQSEventResponse{}, nil
	})()
	defer close(release) // before the consumer stops (defers run last first)
	waittest.For(t, "the consumer to wait", func() bool { return localbus.Waiting(b, "qa") })
	start := time.Now()
	if err := b.Publish(t.Context(), []events.Outgoing{event(t, "src.a", "T", "slow")}); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < wait {
		t.Fatalf("the publish waited %v for a consumer still running, want HandOffWait (%v)", waited, wait)
	}
}

// A publish that fails after claiming a waiting consumer hands it nothing:
// the consumer goes on, and sees what a later publish sends, once.
func TestAFailedPublishHandsNothing(t *testing.T) {
	b := newBus(t)
	r := &recorder{}
	defer consume(t, b, "qa", r.handle)()
	waittest.For(t, "the consumer to wait", func() bool { return localbus.Waiting(b, "qa") })
	bad := event(t, "src.a", "T", "bad")
	bad.Detail = json.RawMessage(`{"not json`)
	if err := b.Publish(t.Context(), []events.Outgoing{event(t, "src.a", "T", "lost"), bad}); err == nil {
		t.Fatal("published an event whose detail is not JSON")
	}
	if err := b.Publish(t.Context(), []events.Outgoing{event(t, "src.a", "T", "kept")}); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, b)
	if got := r.details(); !slices.Equal(got, []string{`{"n":"kept"}`}) {
		t.Fatalf("handled %v, want only the later event", got)
	}
}

// The bus is idle only when nothing waits, runs or waits for a retry, and
// every send it took has ended; dead letters are at rest.
func TestIdle(t *testing.T) {
	b := newBus(t)
	idle := func() bool {
		t.Helper()
		ok, err := b.Idle(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !idle() {
		t.Fatal("a new bus is not idle")
	}
	before := b.Sends()
	if err := b.Publish(t.Context(), []events.Outgoing{event(t, "src.a", "T", "1")}); err != nil {
		t.Fatal(err)
	}
	if b.Sends() != before+1 {
		t.Fatalf("sends %d after a publish, want %d", b.Sends(), before+1)
	}
	if idle() {
		t.Fatal("idle with a message waiting and no consumer")
	}
	// A consumer that fails the message twice, then holds it until released.
	release := make(chan struct{})
	var receives atomic.Int32
	stop := consume(t, b, "qa", func(_ context.Context, ev awsevents.SQSEvent, _ func(string, error)) (awsevents.SQSEventResponse, error) {
		if receives.Add(1) <= 2 {
			return awsevents.SQSEventResponse{BatchItemFailures: []awsevents.SQSBatchItemFailure{{ItemIdentifier: ev.Records[0].MessageId}}}, nil
		}
		<-release
		return awsevents.SQSEventResponse{}, nil
	})
	defer stop()
	waittest.For(t, "the third receive", func() bool { return receives.Load() == 3 })
	if idle() {
		t.Fatal("idle with a message in its consumer's hands")
	}
	close(release)
	waitIdle(t, b)
	// A message whose receives run out rests in the dead-letter queue.
	if err := b.Publish(t.Context(), []events.Outgoing{event(t, "src.b", "Wanted", "poison")}); err != nil {
		t.Fatal(err)
	}
	defer consume(t, b, "qb", func(context.Context, awsevents.SQSEvent, func(string, error)) (awsevents.SQSEventResponse, error) {
		return awsevents.SQSEventResponse{}, errors.New("always")
	})()
	waittest.For(t, "the dead letter", func() bool {
		dl, err := b.DeadLetters(t.Context(), "qb")
		return err == nil && len(dl) == 1
	})
	if !idle() {
		t.Fatal("not idle with only a dead letter left")
	}
}

// The defaults are what Options documents.
func TestOptionDefaults(t *testing.T) {
	got := localbus.Defaults(localbus.Options{})
	want := localbus.Options{Account: "000000000000", Region: "local", RetryDelay: time.Second, PollInterval: time.Second,
		HandOffWait: 5 * time.Millisecond, ArchiveAge: localbus.DefaultArchiveAge, ArchiveBytes: localbus.DefaultArchiveBytes}
	if got != want {
		t.Fatalf("defaults %+v, want %+v", got, want)
	}
	set := localbus.Options{Account: "1", Region: "r", RetryDelay: 1, PollInterval: 2, HandOffWait: 3, ArchiveAge: 4, ArchiveBytes: 5}
	if got := localbus.Defaults(set); got != set {
		t.Fatalf("set options %+v became %+v", set, got)
	}
}

// Options.Batch sets how many messages a consumer is given at once,
// whatever its rule's batch size.
func TestOptionsBatchOverridesTheRules(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "bus.db"))
	t.Cleanup(func() { db.Close() })
	opts := fast
	opts.Batch = 4
	b := openBusWith(t, db, testRules, opts)
	for i := range 8 {
		if err := b.Publish(t.Context(), []events.Outgoing{event(t, "src.b", "Wanted", string(rune('a'+i)))}); err != nil {
			t.Fatal(err)
		}
	}
	var rec recorder
	stop := consume(t, b, "qb", rec.handle)
	waittest.For(t, "queue drained", func() bool { return depth(t, b, "qb") == 0 })
	stop()
	if !slices.Equal(rec.batches, []int{4, 4}) {
		t.Fatalf("batches %v, want two of 4 (the option's, not the rule's 2)", rec.batches)
	}
	if err := (localbus.Options{Batch: -1}).Validate(); err == nil {
		t.Error("a negative batch validates")
	}
}
