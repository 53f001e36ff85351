package localbus

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"maragu.dev/goqite"

	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/sqlitedb"
)

// Publish delivers each event to the queue of every rule whose pattern
// matches its envelope, all in one transaction; an event no rule matches is
// dropped, as on EventBridge.
//
// A queue whose consumer waits for work is handed its messages in memory,
// and the publish waits up to Options.HandOffWait for the consumer to run
// them: what succeeded is never written, what failed is written as a failed
// receive, and a batch still running is written in flight, for its consumer
// to settle once this publish has committed. That is safe because the
// publisher's events are durable before it publishes (its outbox keeps them
// until Publish returns); docs/architecture.md tells the whole hand-off.
func (b *Bus) Publish(ctx context.Context, evts []events.Outgoing) error {
	defer b.send()()
	claimed := map[*queue]*claim{}
	defer func() { // a claimed consumer gets its hand-off whatever happens, even a panic
		for _, c := range claimed {
			c.w.handed <- nil // not handed: the publish failed first
		}
	}()
	now := time.Now().UTC()
	routed, sends, err := b.route(evts, claimed, now)
	if err != nil {
		return err
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
	dead, err := b.commit(ctx, runs, sends, now)
	if err != nil {
		return err
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
	for _, m := range sends {
		select {
		case m.q.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// route matches each event against the rules: a message for a queue whose
// consumer waits joins the batch claimed for it (up to a batch), any other
// is a send to write.
func (b *Bus) route(evts []events.Outgoing, claimed map[*queue]*claim, now time.Time) (routed []Published, sends []message, err error) {
	for _, e := range evts {
		body, err := json.Marshal(e.Wrap(b.opts.Account, b.opts.Region))
		if err != nil {
			return nil, nil, fmt.Errorf("encode envelope: %w", err)
		}
		p := Published{Envelope: body, Queues: []string{}}
		parsed, ok := eventbus.ParseEvent(body)
		for _, r := range b.rules {
			if !ok || !r.Pattern.MatchesEvent(parsed) {
				continue
			}
			q := b.queues[r.Queue]
			if !b.claim(q, claimed, body, now) {
				sends = append(sends, message{q: q, body: body})
			}
			p.Queues = append(p.Queues, r.Queue)
		}
		routed = append(routed, p)
	}
	return routed, sends, nil
}

// commit writes, in one transaction, what the handed runs leave and the
// sends, and returns how many messages each queue dead-lettered. A publish
// whose every message was handed over and succeeded writes nothing.
func (b *Bus) commit(ctx context.Context, runs []*handedRun, sends []message, now time.Time) (dead map[*queue]int, err error) {
	if len(sends) == 0 && !slices.ContainsFunc(runs, (*handedRun).leavesWrites) {
		return nil, nil
	}
	err = sqlitedb.InTx(ctx, b.db, func(tx *sql.Tx) error {
		dead = map[*queue]int{}
		for _, r := range runs {
			n, err := b.write(ctx, tx, r, now)
			if err != nil {
				return fmt.Errorf("send to %s: %w", r.q.rule.Queue, err)
			}
			dead[r.q] += n
		}
		return sendAll(ctx, tx, sends)
	})
	return dead, err
}

// sendAll sends, in tx, each queue's messages in one statement, as
// goqite's SendTx sends one (visible at once), in their order.
func sendAll(ctx context.Context, tx *sql.Tx, sends []message) error {
	var queues []*queue
	bodies := map[*queue][]string{}
	for _, m := range sends {
		if bodies[m.q] == nil {
			queues = append(queues, m.q)
		}
		bodies[m.q] = append(bodies[m.q], string(m.body))
	}
	for _, q := range queues {
		list, err := json.Marshal(bodies[q])
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `insert into goqite (queue, body) select ?, cast(value as blob) from json_each(?) order by key`, q.rule.Queue, string(list)); err != nil {
			return fmt.Errorf("send to %s: %w", q.rule.Queue, err)
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
	if len(c.batch) >= q.batch {
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
