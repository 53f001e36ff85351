// Package localbus is the local runtime's EventBridge and SQS: it routes events
// by the rules of package events into durable SQLite queues (goqite) and runs
// each queue's consumer with SQS semantics: batches, visibility timeout, receive
// counts, partial batch failures and a dead-letter queue.
//
// bus.go opens a bus; publish.go routes events into queues, handing them to
// waiting consumers; consume.go delivers and settles them; deadletters.go
// keeps what failed; queues.go counts what waits and says when the bus is
// idle; feed.go and archive.go watch and keep what passes, for the console
// and for replays.
package localbus

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/eventshop/eventshop/internal/eventbus"
	"maragu.dev/goqite"
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

// Handler consumes a batch the way an SQS-triggered Lambda function does,
// and tells report why each message it fails failed, which the bus keeps
// for the message's dead letter (eventbus.Consumer.HandleReporting).
type Handler func(ctx context.Context, ev awsevents.SQSEvent, report func(messageID string, err error)) (awsevents.SQSEventResponse, error)

// Options tune the bus; zero values take the defaults.
type Options struct {
	Account, Region string        // written into envelopes; default 000000000000 / local
	RetryDelay      time.Duration // how long a failed message waits before its next receive; default 1s
	PollInterval    time.Duration // how often an idle consumer looks for work; default 1s
	// VisibilityTimeout, when set, replaces every rule's visibility timeout: the
	// time after which a message received by a consumer that died is delivered again.
	VisibilityTimeout time.Duration
	// Batch is the most messages a consumer is given at once; 0 means each
	// rule's BatchSize (SQS's, at most 10). A batch's messages run side by
	// side, one flow after another, and their writes commit together: a
	// larger batch pays fewer fsyncs per message under load, and is no
	// larger than what waits when the load is light.
	Batch int
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
	if o.Batch < 0 {
		errs = append(errs, fmt.Errorf("batch %d is negative", o.Batch))
	}
	if o.ArchiveAge < 0 || o.ArchiveBytes < 0 {
		errs = append(errs, fmt.Errorf("archive bounds %v and %d bytes: must not be negative", o.ArchiveAge, o.ArchiveBytes))
	}
	return errors.Join(errs...)
}

// Bus routes events to queues and runs their consumers.
type Bus struct {
	db      *sql.DB
	rules   []eventbus.Rule
	opts    Options
	log     *slog.Logger
	queues  map[string]*queue
	feed    feed
	archive archiver
	// sending counts the sends (publishes, redrives, replays) under way, and
	// sends those begun since the bus opened: Idle reads them.
	sending atomic.Int64
	sends   atomic.Uint64
	// settlingOwn, when set (by tests), runs in a consumer that is to settle
	// a handed batch itself, before it waits for the batch's publisher.
	settlingOwn func()
	// beforeTx, when set (by tests), runs in each publish once its consumers
	// ran what they were handed, or it stopped waiting, and before its
	// transaction.
	beforeTx func()
}

type queue struct {
	rule  eventbus.Rule
	batch int // the most messages its consumer is given at once (Options.Batch)
	q     *goqite.Queue
	dlq   *goqite.Queue
	vt    time.Duration // the visibility timeout
	wake  chan struct{}
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
func Open(ctx context.Context, db *sql.DB, rules []eventbus.Rule, opts Options, log *slog.Logger) (*Bus, error) {
	opts = opts.withDefaults()
	if err := errors.Join(opts.Validate(), eventbus.ValidateRules(rules)); err != nil {
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
		batch := r.BatchSize
		if opts.Batch != 0 {
			batch = opts.Batch
		}
		b.queues[r.Queue] = &queue{
			rule:  r,
			batch: batch,
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
func (b *Bus) Destination() eventbus.Destination {
	return eventbus.Destination{System: eventbus.SystemLocalBus, Name: Name}
}

// send marks a send to the queues as begun, for Idle; the function it
// returns marks it ended.
func (b *Bus) send() (ended func()) {
	b.sends.Add(1)
	b.sending.Add(1)
	return func() { b.sending.Add(-1) }
}
