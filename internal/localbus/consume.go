package localbus

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"maragu.dev/goqite"

	"github.com/eventshop/eventshop/internal/correlation"
	"github.com/eventshop/eventshop/internal/correlation/service"
	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/sqlitedb"
)

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
			if b.settlingOwn != nil {
				b.settlingOwn()
			}
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
// q's batch of messages (Options.Batch), in one transaction. Settling
// deletes each message that succeeded, hides each failed one for RetryDelay, and moves to the DLQ one
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
		if receive {
			if got, err = receiveBatch(ctx, tx, q); err != nil {
				return err
			}
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

// receiveBatch receives up to q's batch of messages in one statement, as
// goqite's ReceiveTx receives one: the oldest visible ones that have not
// used up their receives, each hidden for the visibility timeout and its
// receive counted. They come in the order they were sent.
func receiveBatch(ctx context.Context, tx *sql.Tx, q *queue) ([]received, error) {
	now := time.Now().UTC()
	rows, err := tx.QueryContext(ctx, `
		update goqite set timeout = ?, received = received + 1
		where id in (
			select id from goqite
			where queue = ? and ? >= timeout and received < ?
			order by priority desc, created
			limit ?
		)
		returning rowid, id, body, received, created`,
		now.Add(q.vt).Format(goqiteTime), q.rule.Queue, now.Format(goqiteTime), q.rule.MaxReceives+1, q.batch)
	if err != nil {
		return nil, fmt.Errorf("receive: %w", err)
	}
	defer rows.Close()
	type row struct {
		rowid int64
		received
	}
	var got []row
	for rows.Next() {
		var r row
		var created string
		if err := rows.Scan(&r.rowid, &r.id, &r.body, &r.count, &created); err != nil {
			return nil, fmt.Errorf("receive: %w", err)
		}
		r.created, _ = time.Parse(time.RFC3339Nano, created) // goqite's own format; only the delivery span reads it
		got = append(got, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("receive: %w", err)
	}
	slices.SortFunc(got, func(a, b row) int { // RETURNING keeps no order
		return cmp.Or(a.created.Compare(b.created), cmp.Compare(a.rowid, b.rowid))
	})
	out := make([]received, len(got))
	for i, r := range got {
		out[i] = r.received
	}
	return out, nil
}

// settle settles done in tx and returns how many messages it dead-lettered.
func (b *Bus) settle(ctx context.Context, tx *sql.Tx, q *queue, done settlement) (dead int, err error) {
	var succeeded, forget []string // deleted in one statement each, below
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
			succeeded = append(succeeded, string(r.id))
			if r.count > 1 { // it may have failed before
				forget = append(forget, string(r.id))
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
	for _, del := range []struct {
		query, what string
		ids         []string
	}{
		{`delete from goqite where id in (select value from json_each(?))`, "delete", succeeded},
		{`delete from goqite_errors where id in (select value from json_each(?))`, "forget failures", forget},
	} {
		if len(del.ids) == 0 {
			continue
		}
		list, _ := json.Marshal(del.ids)
		if _, err := tx.ExecContext(ctx, del.query, string(list)); err != nil {
			return 0, fmt.Errorf("%s: %w", del.what, err)
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
	for i, r := range batch {
		all[string(r.id)] = true
		b.traceDelivery(ctx, q, r)
		ev.Records[i] = awsevents.SQSMessage{
			MessageId:     string(r.id),
			ReceiptHandle: string(r.id),
			Body:          string(r.body),
			Attributes: map[string]string{"ApproximateReceiveCount": strconv.Itoa(r.count),
				"SentTimestamp": strconv.FormatInt(r.created.UnixMilli(), 10)},
			EventSource:    eventbus.EventSourceLocalBus,
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
	resp, err := h(ctx, ev, func(id string, err error) { reasons[id] = err.Error() })
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
			semconv.MessagingSystemKey.String(eventbus.SystemLocalBus),
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
