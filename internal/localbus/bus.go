// Package localbus is the local runtime's EventBridge and SQS: it routes events
// by the rules of package events into durable SQLite queues (goqite) and runs
// each queue's consumer with SQS semantics: batches, visibility timeout, receive
// counts, partial batch failures and a dead-letter queue.
package localbus

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"maragu.dev/goqite"

	"github.com/eventshop/eventshop/internal/correlation"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/kind"
	"github.com/eventshop/eventshop/internal/sqlitedb"
	"github.com/eventshop/eventshop/internal/telemetry/service"
)

// Schema is goqite's SQLite schema, made idempotent, and the bus's own table
// of why messages failed (the last reason of each failed message, kept with
// its dead letter).
const Schema = `
create table if not exists goqite (
  id text primary key default ('m_' || lower(hex(randomblob(16)))),
  created text not null default (strftime('%Y-%m-%dT%H:%M:%fZ')),
  updated text not null default (strftime('%Y-%m-%dT%H:%M:%fZ')),
  queue text not null,
  body blob not null,
  timeout text not null default (strftime('%Y-%m-%dT%H:%M:%fZ')),
  received integer not null default 0,
  priority integer not null default 0
) strict;
create trigger if not exists goqite_updated_timestamp after update on goqite begin
  update goqite set updated = strftime('%Y-%m-%dT%H:%M:%fZ') where id = old.id;
end;
create index if not exists goqite_queue_priority_created_idx on goqite (queue, priority desc, created);
create table if not exists goqite_errors (
  id text primary key,
  error text not null
) strict;`

// Handler consumes a batch the way an SQS-triggered Lambda function does.
type Handler func(context.Context, awsevents.SQSEvent) (awsevents.SQSEventResponse, error)

// Options tune the bus; zero values take the defaults.
type Options struct {
	Account, Region string        // written into envelopes; default 000000000000 / local
	RetryDelay      time.Duration // how long a failed message waits before its next receive; default 1s
	PollInterval    time.Duration // how often an idle consumer looks for work; default 1s
	// VisibilityTimeout, when set, replaces every rule's visibility timeout: the
	// time after which a message received by a consumer that died is delivered again.
	VisibilityTimeout time.Duration
	// HandOffWait is the longest a publish waits, before it writes, for the
	// consumers it handed messages to (Publish); default 5ms. Consumers that
	// commit take about one fsync; one that takes longer settles its batch
	// itself, once the publish has written it.
	HandOffWait time.Duration
	// ArchiveAge and ArchiveBytes bound the archive of every event the bus
	// took (Archive, Replay): what is older, and the oldest beyond the size
	// (the envelopes' bytes), is forgotten; defaults DefaultArchiveAge and
	// DefaultArchiveBytes.
	ArchiveAge   time.Duration
	ArchiveBytes int64
}

// withDefaults returns o with its zero fields set to their defaults.
func (o Options) withDefaults() Options {
	if o.Account == "" {
		o.Account = "000000000000"
	}
	if o.Region == "" {
		o.Region = "local"
	}
	if o.RetryDelay == 0 {
		o.RetryDelay = time.Second
	}
	if o.PollInterval == 0 {
		o.PollInterval = time.Second
	}
	if o.HandOffWait == 0 {
		o.HandOffWait = 5 * time.Millisecond
	}
	if o.ArchiveAge == 0 {
		o.ArchiveAge = DefaultArchiveAge
	}
	if o.ArchiveBytes == 0 {
		o.ArchiveBytes = DefaultArchiveBytes
	}
	return o
}

// Validate checks o once its defaults are set.
func (o Options) Validate() error {
	var errs []error
	if o.RetryDelay < 0 {
		errs = append(errs, fmt.Errorf("retry delay %v is negative", o.RetryDelay))
	}
	if o.PollInterval < 0 {
		errs = append(errs, fmt.Errorf("poll interval %v is negative", o.PollInterval))
	}
	if o.VisibilityTimeout < 0 {
		errs = append(errs, fmt.Errorf("visibility timeout %v is negative", o.VisibilityTimeout))
	}
	if o.HandOffWait < 0 {
		errs = append(errs, fmt.Errorf("hand-off wait %v is negative", o.HandOffWait))
	}
	if o.ArchiveAge < 0 || o.ArchiveBytes < 0 {
		errs = append(errs, fmt.Errorf("archive bounds %v and %d bytes: must not be negative", o.ArchiveAge, o.ArchiveBytes))
	}
	return errors.Join(errs...)
}

// Bus routes events to queues and runs their consumers.
type Bus struct {
	db      *sql.DB
	rules   []events.Rule
	opts    Options
	log     *slog.Logger
	queues  map[string]*queue
	feed    feed
	archive archiver
	// beforeTx, when set (by tests), runs in each publish once its consumers
	// ran what they were handed, or it stopped waiting, and before its
	// transaction.
	beforeTx func()
}

type queue struct {
	rule events.Rule
	q    *goqite.Queue
	dlq  *goqite.Queue
	vt   time.Duration // the visibility timeout
	wake chan struct{}
	// waiting is the consumer waiting for work, if one is. A publisher that
	// takes it owes it exactly one hand-off: the batch it routed to it (nil,
	// if the publish failed first).
	waiting atomic.Pointer[waiter]
}

// waiter is one consumer (Consume) waiting for work.
type waiter struct{ handed chan *handedRun }

// Open makes a bus for rules on db, creating its tables. The caller must be
// the only process using db: messages that are in flight when the bus opens
// belong to a consumer that died with its process, and become visible again
// at once instead of after their visibility timeout. Their receive count stays.
func Open(ctx context.Context, db *sql.DB, rules []events.Rule, opts Options, log *slog.Logger) (*Bus, error) {
	opts = opts.withDefaults()
	if err := errors.Join(opts.Validate(), events.ValidateRules(rules)); err != nil {
		return nil, fmt.Errorf("local bus: %w", err)
	}
	if _, err := db.ExecContext(ctx, Schema+ArchiveSchema); err != nil {
		return nil, fmt.Errorf("create queue tables: %w", err)
	}
	for _, r := range rules {
		res, err := db.ExecContext(ctx, `update goqite set timeout = strftime('%Y-%m-%dT%H:%M:%fZ') where queue = ? and received > 0 and timeout > strftime('%Y-%m-%dT%H:%M:%fZ')`, r.Queue)
		if err != nil {
			return nil, fmt.Errorf("release messages in flight: %w", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			log.WarnContext(ctx, "released messages a dead consumer had in flight", "queue", r.Queue, "messages", n)
		}
	}
	b := &Bus{db: db, rules: rules, opts: opts, log: log, queues: map[string]*queue{}}
	for _, r := range rules {
		vt := r.VisibilityTimeout()
		if opts.VisibilityTimeout != 0 {
			vt = opts.VisibilityTimeout
		}
		b.queues[r.Queue] = &queue{
			rule: r,
			// One receive more than the rule allows, so that the bus itself sees a
			// message that exhausted its receives and moves it to the DLQ.
			q:    goqite.New(goqite.NewOpts{DB: db, Name: r.Queue, MaxReceive: r.MaxReceives + 1, Timeout: vt}),
			dlq:  goqite.New(goqite.NewOpts{DB: db, Name: r.DeadLetterQueue()}),
			vt:   vt,
			wake: make(chan struct{}, 1),
		}
	}
	return b, nil
}

// Name is the local bus's name, its messaging.destination.name when publishing.
const Name = "eventshop"

// Destination is where the bus's publishers send, for their spans.
func (b *Bus) Destination() events.Destination {
	return events.Destination{System: events.SystemLocalBus, Name: Name}
}

// Publish delivers each event to the queue of every rule whose pattern
// matches its envelope (EventBridge's pattern language, content filters
// included), all in one transaction; an event no rule matches is dropped, as
// on EventBridge.
//
// A queue whose consumer is waiting for work has its messages (up to a
// batch) handed over in memory instead, and the publish waits (up to
// Options.HandOffWait) for the consumer to run them before its transaction:
// a message that succeeded is then settled already, and never written; one
// that failed is written as received once and failed (to come again after
// Options.RetryDelay, or dead-lettered), as a consumer's settlement would
// leave it. A consumer that takes longer is left to settle its batch itself:
// the publish writes it as received, in flight, and the consumer settles it
// once the publish's transaction has ended, so never before it exists. A
// publish whose every message was handed over and succeeded writes nothing.
//
// So the way from an event to its effect holds no commit of the bus's, and
// the consumer's writes reach the disk before the publish's. This takes
// nothing from the bus's guarantees, since a publisher's events are durable
// before it publishes them (an outbox: the relay deletes its rows only once
// Publish returns): should the process die, or the publish fail, after a
// consumer ran its messages, the relay publishes them again and the consumer
// meets them a second time, as it does any redelivery (consumers are
// idempotent).
func (b *Bus) Publish(ctx context.Context, evts []events.Outgoing) error {
	claimed := map[*queue]*claim{}
	defer func() { // a claimed consumer gets its hand-off whatever happens, even a panic
		for _, c := range claimed {
			c.w.handed <- nil // not handed: the publish failed first
		}
	}()
	now := time.Now().UTC()
	var (
		routed []Published
		sends  []message
		woken  []*queue
	)
	for _, e := range evts {
		body, err := json.Marshal(e.Wrap(b.opts.Account, b.opts.Region))
		if err != nil {
			return fmt.Errorf("encode envelope: %w", err)
		}
		p := Published{Envelope: body, Queues: []string{}}
		parsed, ok := events.ParseEvent(body)
		for _, r := range b.rules {
			if !ok || !r.Pattern.MatchesEvent(parsed) {
				continue
			}
			q := b.queues[r.Queue]
			if !b.claim(q, claimed, body, now) {
				sends = append(sends, message{q: q, body: body})
				woken = append(woken, q)
			}
			p.Queues = append(p.Queues, r.Queue)
		}
		routed = append(routed, p)
	}
	runs := b.handOver(claimed)
	defer func() { // a consumer left to settle its batch does so once this has run
		for _, r := range runs {
			close(r.ended)
		}
	}()
	b.awaitRuns(ctx, runs)
	if b.beforeTx != nil {
		b.beforeTx()
	}
	var dead map[*queue]int
	if len(sends) > 0 || slices.ContainsFunc(runs, (*handedRun).leavesWrites) {
		err := sqlitedb.InTx(ctx, b.db, func(tx *sql.Tx) error {
			dead = map[*queue]int{}
			for _, r := range runs {
				n, err := b.write(ctx, tx, r, now)
				if err != nil {
					return fmt.Errorf("send to %s: %w", r.q.rule.Queue, err)
				}
				dead[r.q] += n
			}
			for _, m := range sends {
				if err := m.q.q.SendTx(ctx, tx, goqite.Message{Body: m.body}); err != nil {
					return fmt.Errorf("send to %s: %w", m.q.rule.Queue, err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for q, n := range dead {
		countDeadLettered(ctx, q, n)
	}
	at := time.Now().UTC()
	for i := range routed {
		routed[i].At = at
	}
	b.feed.add(routed)
	b.archive.add(routed)
	for _, q := range woken {
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// message is a message to send to q.
type message struct {
	q    *queue
	body []byte
}

// claim is a waiting consumer a publisher took, and what it received for it.
type claim struct {
	w     *waiter
	batch []received
}

// claim adds body to the batch a waiting consumer of q is to be handed (taking
// the consumer, if this publish has not yet), and reports whether it did: it
// does not when no consumer of q waits or its batch is full.
func (b *Bus) claim(q *queue, claimed map[*queue]*claim, body []byte, now time.Time) bool {
	c := claimed[q]
	if c == nil {
		w := q.waiting.Swap(nil)
		if w == nil {
			return false
		}
		c = &claim{w: w} // from here on, the consumer waits for this hand-off
		claimed[q] = c
	}
	if len(c.batch) >= q.rule.BatchSize {
		return false
	}
	c.batch = append(c.batch, received{id: newID(), body: body, count: 1, created: now})
	return true
}

// newID makes a message id as goqite's schema does.
func newID() goqite.ID {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails
	return goqite.ID("m_" + hex.EncodeToString(b[:]))
}

// handedRun is a batch handed to a consumer of q, as its publisher and the
// consumer share it while the consumer runs it.
type handedRun struct {
	q     *queue
	batch []received
	ran   chan struct{} // closed by the consumer once it has run the batch
	ended chan struct{} // closed by the publisher once it has written what it had to
	mu    sync.Mutex
	// Under mu: the consumer's outcome, if it ran the batch before its
	// publisher stopped waiting; or, if the publisher stopped first, that the
	// consumer settles the batch itself.
	reported  bool
	failed    map[string]string
	abandoned bool
}

// report is the consumer's outcome of r: it reports whether the consumer is
// to settle the batch itself (its publisher stopped waiting), which it may
// do only once the publisher has ended.
func (r *handedRun) report(failed map[string]string) (settleOwn bool) {
	r.mu.Lock()
	if !r.abandoned {
		r.reported, r.failed = true, failed
	}
	settleOwn = r.abandoned
	r.mu.Unlock()
	close(r.ran)
	return settleOwn
}

// abandon leaves r's consumer to settle its batch, unless it has reported.
func (r *handedRun) abandon() {
	r.mu.Lock()
	r.abandoned = !r.reported
	r.mu.Unlock()
}

// leavesWrites reports whether the publisher has anything of r's to write:
// failed messages, or a batch its consumer settles itself. Called after
// abandon.
func (r *handedRun) leavesWrites() bool { return r.abandoned || len(r.failed) > 0 }

// write writes what r leaves to write in tx, and returns how many messages it
// dead-lettered: the whole batch, as received and in flight, if its consumer
// settles it; otherwise each failed message, received and settled as failed.
func (b *Bus) write(ctx context.Context, tx *sql.Tx, r *handedRun, now time.Time) (dead int, err error) {
	inFlight := r.batch
	if !r.abandoned {
		inFlight = nil
		for _, m := range r.batch {
			if _, failed := r.failed[string(m.id)]; failed {
				inFlight = append(inFlight, m)
			}
		}
	}
	for _, m := range inFlight {
		if _, err := tx.ExecContext(ctx, `insert into goqite (id, queue, body, timeout, received) values (?, ?, ?, ?, 1)`,
			m.id, r.q.rule.Queue, m.body, now.Add(r.q.vt).Format(goqiteTime)); err != nil {
			return 0, err
		}
	}
	if r.abandoned {
		return 0, nil
	}
	return b.settle(ctx, tx, r.q, settlement{batch: inFlight, failed: r.failed})
}

// handOver hands each claimed consumer its batch.
func (b *Bus) handOver(claimed map[*queue]*claim) []*handedRun {
	runs := make([]*handedRun, 0, len(claimed))
	for q, c := range claimed {
		r := &handedRun{q: q, batch: c.batch, ran: make(chan struct{}), ended: make(chan struct{})}
		c.w.handed <- r
		delete(claimed, q)
		runs = append(runs, r)
	}
	return runs
}

// awaitRuns waits, up to Options.HandOffWait, until the consumers handed
// batches have run them, and leaves those that have not to settle their own.
func (b *Bus) awaitRuns(ctx context.Context, runs []*handedRun) {
	if len(runs) == 0 {
		return
	}
	t := time.NewTimer(b.opts.HandOffWait)
	defer t.Stop()
wait:
	for _, r := range runs {
		select {
		case <-r.ran:
		case <-t.C:
			break wait
		case <-ctx.Done():
			break wait
		}
	}
	for _, r := range runs {
		r.abandon()
	}
}

// goqiteTime is how goqite writes a message's timeout.
const goqiteTime = "2006-01-02T15:04:05.000Z07:00"

// Consume runs h on queueName's messages until ctx ends; a queue has one
// consumer. A batch in flight when ctx ends is finished and settled, not
// abandoned.
//
// A batch's settlement (deletes, retries, dead letters) commits in the same
// transaction as the next receive: one commit per batch instead of two while
// the queue has work, and made at once after the batch, before any wait. A
// settlement that fails to commit is tried again with the next receive; if the
// process dies first, its messages are delivered again when the bus next opens,
// as a dead consumer's are.
func (b *Bus) Consume(ctx context.Context, queueName string, h Handler) error {
	q, err := b.queue(queueName)
	if err != nil {
		return err
	}
	t := time.NewTicker(b.opts.PollInterval)
	defer t.Stop()
	work := context.WithoutCancel(ctx)
	me := &waiter{handed: make(chan *handedRun, 1)}
	var done settlement // the last batch, handled, not yet settled
	for {
		stopping := ctx.Err() != nil
		batch, err := b.settleAndReceive(work, q, done, !stopping)
		if err != nil {
			b.log.ErrorContext(ctx, "consume", "queue", queueName, "err", err)
		} else {
			done = settlement{} // settled; on an error, it is tried again
		}
		if stopping {
			return nil
		}
		var handed *handedRun
		if len(batch) == 0 {
			if handed = b.await(ctx, q, me, t.C); handed != nil {
				batch = handed.batch
			}
		}
		if len(batch) == 0 {
			continue
		}
		failed := b.run(work, q, h, batch)
		if handed == nil {
			done.add(batch, failed) // settled with the next receive: there may be more
		} else if handed.report(failed) {
			<-handed.ended // its publisher has written the batch (or failed to)
			done.add(batch, failed)
		}
	}
}

// await waits for work on q as w: a batch a publisher hands over, or a
// wake-up, the next poll or the end of ctx (then it returns nil). While
// another consumer of q waits, w is not handed anything and finds work on
// the next wake-up or poll.
func (b *Bus) await(ctx context.Context, q *queue, w *waiter, poll <-chan time.Time) *handedRun {
	listed := q.waiting.CompareAndSwap(nil, w)
	select {
	case h := <-w.handed:
		return h
	case <-ctx.Done():
	case <-q.wake:
	case <-poll:
	}
	if listed && !q.waiting.CompareAndSwap(w, nil) {
		return <-w.handed // a publisher took w first: take what it hands over
	}
	return nil
}

type received struct {
	id      goqite.ID
	body    []byte
	count   int
	created time.Time // when the message was sent to the queue
}

// settlement is handled messages and why each failed one failed, by id.
type settlement struct {
	batch  []received
	failed map[string]string
}

// add adds a handled batch to s (which holds more than one batch only when
// settling failed).
func (s *settlement) add(batch []received, failed map[string]string) {
	s.batch = append(s.batch, batch...)
	if s.failed == nil {
		s.failed = failed
		return
	}
	maps.Copy(s.failed, failed)
}

// settleAndReceive settles done and, when receive is set, receives up to
// BatchSize messages, in one transaction. Settling deletes each message that
// succeeded, hides each failed one for RetryDelay, and moves to the DLQ one
// that has failed MaxReceives times; receiving moves to the DLQ a message
// received MaxReceives times and never settled (its consumer died).
func (b *Bus) settleAndReceive(ctx context.Context, q *queue, done settlement, receive bool) ([]received, error) {
	var batch, exhausted []received
	var dead int
	err := sqlitedb.InTx(ctx, b.db, func(tx *sql.Tx) error {
		var err error
		if dead, err = b.settle(ctx, tx, q, done); err != nil {
			return err
		}
		var got []received
		for receive && len(got) < q.rule.BatchSize {
			m, err := q.q.ReceiveTx(ctx, tx)
			if err != nil {
				return fmt.Errorf("receive: %w", err)
			}
			if m == nil {
				break
			}
			got = append(got, received{id: m.ID, body: m.Body})
		}
		if err := receiveCounts(ctx, tx, got); err != nil {
			return err
		}
		for _, r := range got {
			if r.count > q.rule.MaxReceives {
				exhausted = append(exhausted, r)
			} else {
				batch = append(batch, r)
			}
		}
		for _, r := range exhausted {
			reason := fmt.Sprintf("received %d times and never settled: its consumer died or hung past the visibility timeout", r.count-1)
			if err := b.deadLetter(ctx, tx, q, r, reason); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	countDeadLettered(ctx, q, dead+len(exhausted))
	return batch, nil
}

// receiveCounts reads how many times each of got has been received and when
// it was sent (goqite's ReceiveTx returns neither), in one query.
func receiveCounts(ctx context.Context, tx *sql.Tx, got []received) error {
	if len(got) == 0 {
		return nil
	}
	ids := make([]string, len(got))
	at := make(map[goqite.ID]int, len(got))
	for i, r := range got {
		ids[i], at[r.id] = string(r.id), i
	}
	list, _ := json.Marshal(ids)
	rows, err := tx.QueryContext(ctx, `select id, received, created from goqite where id in (select value from json_each(?))`, string(list))
	if err != nil {
		return fmt.Errorf("read receive counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, created string
		var count int
		if err := rows.Scan(&id, &count, &created); err != nil {
			return fmt.Errorf("read receive counts: %w", err)
		}
		r := &got[at[goqite.ID(id)]]
		r.count = count
		r.created, _ = time.Parse(time.RFC3339Nano, created) // goqite's own format; only the delivery span reads it
	}
	return rows.Err()
}

// settle settles done in tx and returns how many messages it dead-lettered.
func (b *Bus) settle(ctx context.Context, tx *sql.Tx, q *queue, done settlement) (dead int, err error) {
	for _, r := range done.batch {
		reason, failed := done.failed[string(r.id)]
		if failed {
			// A message handed over before a publish that then failed to
			// commit does not exist: nothing to retry (its publisher sends it again).
			var n int
			if err := tx.QueryRowContext(ctx, `select count(*) from goqite where id = ?`, r.id).Scan(&n); err != nil {
				return 0, fmt.Errorf("find failed message: %w", err)
			}
			if n == 0 {
				continue
			}
		}
		switch {
		case !failed:
			if err := q.q.DeleteTx(ctx, tx, r.id); err != nil {
				return 0, fmt.Errorf("delete: %w", err)
			}
			if r.count > 1 { // it may have failed before
				if _, err := tx.ExecContext(ctx, `delete from goqite_errors where id = ?`, r.id); err != nil {
					return 0, fmt.Errorf("forget failure: %w", err)
				}
			}
		case r.count >= q.rule.MaxReceives:
			if err := b.deadLetter(ctx, tx, q, r, reason); err != nil {
				return 0, err
			}
			dead++
		default:
			if err := q.q.ExtendTx(ctx, tx, r.id, b.opts.RetryDelay); err != nil {
				return 0, fmt.Errorf("delay retry: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `insert into goqite_errors (id, error) values (?, ?) on conflict (id) do update set error = excluded.error`, r.id, reason); err != nil {
				return 0, fmt.Errorf("record failure: %w", err)
			}
		}
	}
	return dead, nil
}

// run calls h and returns why each message that failed failed, by id; an
// error or a panic fails the whole batch, as on Lambda.
func (b *Bus) run(ctx context.Context, q *queue, h Handler, batch []received) (failed map[string]string) {
	ev := awsevents.SQSEvent{Records: make([]awsevents.SQSMessage, len(batch))}
	all := map[string]bool{}
	every := func(reason string) map[string]string {
		out := map[string]string{}
		for id := range all {
			out[id] = reason
		}
		return out
	}
	reasons := map[string]string{}
	// The delivery and what the consumer does are the consumer's service's spans.
	ctx = service.With(ctx, q.rule.Consumer)
	ctx = events.WithFailures(ctx, func(id string, err error) { reasons[id] = err.Error() })
	for i, r := range batch {
		all[string(r.id)] = true
		b.traceDelivery(ctx, q, r)
		ev.Records[i] = awsevents.SQSMessage{
			MessageId:     string(r.id),
			ReceiptHandle: string(r.id),
			Body:          string(r.body),
			Attributes: map[string]string{"ApproximateReceiveCount": strconv.Itoa(r.count),
				"SentTimestamp": strconv.FormatInt(r.created.UnixMilli(), 10)},
			EventSource:    events.EventSourceLocalBus,
			EventSourceARN: "arn:aws:sqs:" + b.opts.Region + ":" + b.opts.Account + ":" + q.rule.Queue,
			AWSRegion:      b.opts.Region,
		}
	}
	defer func() {
		if p := recover(); p != nil {
			b.log.ErrorContext(ctx, "consumer panicked", "queue", q.rule.Queue, "panic", fmt.Sprint(p))
			failed = every(fmt.Sprintf("the consumer panicked: %v", p))
		}
	}()
	resp, err := h(ctx, ev)
	if err != nil {
		b.log.ErrorContext(ctx, "consumer failed the batch", "queue", q.rule.Queue, "err", err)
		return every("the consumer failed the batch: " + err.Error())
	}
	failed = map[string]string{}
	for _, f := range resp.BatchItemFailures {
		if all[f.ItemIdentifier] {
			failed[f.ItemIdentifier] = cmp.Or(reasons[f.ItemIdentifier], "the consumer failed it without saying why")
		}
	}
	return failed
}

// traceDelivery records, as a span of the event's trace in the service
// that consumes q, r's time in q: from its sending (or the send it was
// redriven from) to its delivery now. A time the queue's table keeps
// (SQLite's clock, to the millisecond) is rounded up, so that the span never
// starts before the publish that sent r.
func (b *Bus) traceDelivery(ctx context.Context, q *queue, r received) {
	detailType, meta, ok := events.Peek(r.body)
	if !ok || meta.TraceParent == "" {
		return
	}
	now := time.Now()
	sent := r.created
	if sent.Truncate(time.Millisecond).Equal(sent) {
		sent = sent.Add(time.Millisecond)
	}
	if sent.After(now) {
		sent = now
	}
	_, span := otel.Tracer(tracerName).Start(meta.Context(ctx), "deliver "+detailType,
		trace.WithTimestamp(sent),
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			semconv.MessagingSystemKey.String(events.SystemLocalBus),
			semconv.MessagingOperationTypeReceive,
			semconv.MessagingOperationName("deliver"),
			semconv.MessagingMessageID(string(r.id)),
			semconv.MessagingDestinationName(q.rule.Queue),
			attribute.Int("messaging.receive_count", r.count),
		))
	span.End(trace.WithTimestamp(now))
}

// tracerName names the bus's spans and metrics.
const tracerName = "github.com/eventshop/eventshop/internal/localbus"

var deadLettered = func() metric.Int64Counter {
	c, err := otel.Meter(tracerName).Int64Counter("eventshop.messages.dead_lettered", metric.WithUnit("{message}"),
		metric.WithDescription("Messages moved to a dead-letter queue, by the queue they left."))
	if err != nil {
		panic(err)
	}
	return c
}()

// countDeadLettered counts n messages moved from q to its dead-letter queue,
// once the move has committed.
func countDeadLettered(ctx context.Context, q *queue, n int) {
	if n > 0 {
		deadLettered.Add(ctx, int64(n), metric.WithAttributes(semconv.MessagingDestinationName(q.rule.Queue)))
	}
}

// messageContext is ctx carrying what a log line about a message of q names:
// the service that consumes q, and the correlation id and trace context of
// the message's event.
func messageContext(ctx context.Context, q *queue, body []byte) context.Context {
	ctx = service.With(ctx, q.rule.Consumer)
	if _, meta, ok := events.Peek(body); ok {
		if meta.CorrelationID != "" {
			ctx = correlation.With(ctx, correlation.Sanitize(meta.CorrelationID))
		}
		ctx = meta.Context(ctx)
	}
	return ctx
}

// deadLetter moves r to q's dead-letter queue with reason, its last failure.
func (b *Bus) deadLetter(ctx context.Context, tx *sql.Tx, q *queue, r received, reason string) error {
	id, err := q.dlq.SendAndGetIDTx(ctx, tx, goqite.Message{Body: r.body})
	if err != nil {
		return fmt.Errorf("send to %s: %w", q.rule.DeadLetterQueue(), err)
	}
	if err := q.q.DeleteTx(ctx, tx, r.id); err != nil {
		return fmt.Errorf("delete dead letter: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `delete from goqite_errors where id = ?`, r.id); err != nil {
		return fmt.Errorf("move failure: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `insert into goqite_errors (id, error) values (?, ?)`, id, reason); err != nil {
		return fmt.Errorf("move failure: %w", err)
	}
	b.log.WarnContext(messageContext(ctx, q, r.body), "message moved to dead-letter queue", "queue", q.rule.Queue,
		"messageId", r.id, "receives", r.count, "reason", reason)
	return nil
}

// DeadLetter is a message kept in a dead-letter queue. Body holds it when it
// is JSON (an EventBridge envelope, normally); Raw holds it when it is not.
// LastError says why it failed the last time, as the consumer said.
type DeadLetter struct {
	ID        string          `json:"id"`
	Body      json.RawMessage `json:"body,omitempty"`
	Raw       string          `json:"raw,omitempty"`
	LastError string          `json:"lastError,omitempty"`
}

func deadLetter(id string, body []byte, lastError string) DeadLetter {
	if json.Valid(body) {
		return DeadLetter{ID: id, Body: body, LastError: lastError}
	}
	return DeadLetter{ID: id, Raw: string(body), LastError: lastError}
}

// ErrNoDeadLetter reports a dead letter that is not (or no longer) in its queue.
var ErrNoDeadLetter = kind.New(kind.NotFound, "no such dead letter")

// UnknownQueueError names a queue no rule targets, and the queues there are.
type UnknownQueueError struct {
	Queue string
	Known []string
}

func (e *UnknownQueueError) Error() string {
	return fmt.Sprintf("no queue %q; the queues are: %s", e.Queue, strings.Join(e.Known, ", "))
}

// Kind makes an unknown queue a 404 on the admin API.
func (e *UnknownQueueError) Kind() kind.Kind { return kind.NotFound }

// QueueNames lists the queues the rules target, in rule order.
func (b *Bus) QueueNames() []string {
	names := make([]string, len(b.rules))
	for i, r := range b.rules {
		names[i] = r.Queue
	}
	return names
}

func (b *Bus) queue(name string) (*queue, error) {
	q, ok := b.queues[name]
	if !ok {
		return nil, &UnknownQueueError{Queue: name, Known: b.QueueNames()}
	}
	return q, nil
}

// QueueStats is how many messages wait in a queue and in its dead-letter queue.
type QueueStats struct {
	Queue           string `json:"queue"`
	DeadLetterQueue string `json:"deadLetterQueue"`
	Messages        int    `json:"messages"` // waiting or in flight
	// InFlight counts the messages received and not yet settled, and the
	// failed ones waiting for their next receive: SQS's "not visible".
	InFlight    int `json:"inFlight"`
	DeadLetters int `json:"deadLetters"`
}

// Stats counts the messages of every queue and its dead-letter queue.
func (b *Bus) Stats(ctx context.Context) ([]QueueStats, error) {
	out := make([]QueueStats, 0, len(b.rules))
	for _, r := range b.rules {
		s := QueueStats{Queue: r.Queue, DeadLetterQueue: r.DeadLetterQueue()}
		err := b.db.QueryRowContext(ctx, `select count(*), count(*) filter (where received > 0 and timeout > strftime('%Y-%m-%dT%H:%M:%fZ')) from goqite where queue = ?`, r.Queue).
			Scan(&s.Messages, &s.InFlight)
		if err != nil {
			return nil, fmt.Errorf("count %s: %w", r.Queue, err)
		}
		if s.DeadLetters, err = b.Depth(ctx, r.DeadLetterQueue()); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// DeadLetters lists what queueName's dead-letter queue holds, oldest first.
func (b *Bus) DeadLetters(ctx context.Context, queueName string) ([]DeadLetter, error) {
	q, err := b.queue(queueName)
	if err != nil {
		return nil, err
	}
	rows, err := b.db.QueryContext(ctx, `select g.id, g.body, coalesce(e.error, '') from goqite g left join goqite_errors e on e.id = g.id
		where g.queue = ? order by g.created, g.id`, q.rule.DeadLetterQueue())
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	defer rows.Close()
	out := []DeadLetter{}
	for rows.Next() {
		var id, lastError string
		var body []byte
		if err := rows.Scan(&id, &body, &lastError); err != nil {
			return nil, fmt.Errorf("list dead letters: %w", err)
		}
		out = append(out, deadLetter(id, body, lastError))
	}
	return out, rows.Err()
}

// DeadLetter returns one message of queueName's dead-letter queue.
func (b *Bus) DeadLetter(ctx context.Context, queueName, id string) (DeadLetter, error) {
	q, err := b.queue(queueName)
	if err != nil {
		return DeadLetter{}, err
	}
	var body []byte
	var lastError string
	err = b.db.QueryRowContext(ctx, `select g.body, coalesce(e.error, '') from goqite g left join goqite_errors e on e.id = g.id
		where g.queue = ? and g.id = ?`, q.rule.DeadLetterQueue(), id).Scan(&body, &lastError)
	if errors.Is(err, sql.ErrNoRows) {
		return DeadLetter{}, ErrNoDeadLetter
	}
	if err != nil {
		return DeadLetter{}, fmt.Errorf("read dead letter: %w", err)
	}
	return deadLetter(id, body, lastError), nil
}

// DeleteDeadLetter removes one message of queueName's dead-letter queue for good.
func (b *Bus) DeleteDeadLetter(ctx context.Context, queueName, id string) error {
	q, err := b.queue(queueName)
	if err != nil {
		return err
	}
	return sqlitedb.InTx(ctx, b.db, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `delete from goqite where queue = ? and id = ?`, q.rule.DeadLetterQueue(), id)
		if err != nil {
			return fmt.Errorf("delete dead letter: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("delete dead letter: %w", err)
		} else if n == 0 {
			return ErrNoDeadLetter
		}
		if _, err := tx.ExecContext(ctx, `delete from goqite_errors where id = ?`, id); err != nil {
			return fmt.Errorf("delete dead letter: %w", err)
		}
		return nil
	})
}

// Redrive moves the messages of queueName's dead-letter queue back to the
// queue with a fresh receive count, and returns how many it moved: all of
// them, or only those whose ids are given (ErrNoDeadLetter if one is missing,
// and then none moves).
func (b *Bus) Redrive(ctx context.Context, queueName string, ids ...string) (int, error) {
	q, err := b.queue(queueName)
	if err != nil {
		return 0, err
	}
	const move = `update goqite set queue = ?, received = 0, timeout = strftime('%Y-%m-%dT%H:%M:%fZ') where queue = ?`
	var n int64
	err = sqlitedb.InTx(ctx, b.db, func(tx *sql.Tx) error {
		// A redriven message starts afresh; its failures were the past's.
		forget := `delete from goqite_errors where id in (select id from goqite where queue = ?)`
		args := []any{q.rule.DeadLetterQueue()}
		if len(ids) > 0 {
			forget = `delete from goqite_errors where id in (select value from json_each(?))`
			b, _ := json.Marshal(ids)
			args = []any{string(b)}
		}
		if _, err := tx.ExecContext(ctx, forget, args...); err != nil {
			return fmt.Errorf("redrive: %w", err)
		}
		if len(ids) == 0 {
			res, err := tx.ExecContext(ctx, move, q.rule.Queue, q.rule.DeadLetterQueue())
			if err != nil {
				return fmt.Errorf("redrive: %w", err)
			}
			n, err = res.RowsAffected()
			return err
		}
		for _, id := range ids {
			res, err := tx.ExecContext(ctx, move+` and id = ?`, q.rule.Queue, q.rule.DeadLetterQueue(), id)
			if err != nil {
				return fmt.Errorf("redrive: %w", err)
			}
			if m, err := res.RowsAffected(); err != nil {
				return err
			} else if m == 0 {
				return ErrNoDeadLetter
			}
			n++
		}
		return nil
	})
	if err == nil && n > 0 {
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
	return int(n), err
}

// Depth counts the messages waiting in queueName (visible or in flight).
func (b *Bus) Depth(ctx context.Context, queueName string) (int, error) {
	var n int
	err := b.db.QueryRowContext(ctx, `select count(*) from goqite where queue = ?`, queueName).Scan(&n)
	return n, err
}
