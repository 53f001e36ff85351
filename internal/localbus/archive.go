package localbus

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"maragu.dev/goqite"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/kind"
	"github.com/eventshop/eventshop/internal/sqlitedb"
)

// ArchiveSchema is the archive of every event the bus took, for replay.
const ArchiveSchema = `
create table if not exists archive (
  seq integer primary key,
  at text not null,
  detail_type text not null,
  body blob not null
) strict;
create index if not exists archive_at on archive (at);`

// The archive's bounds unless Options say otherwise.
const (
	DefaultArchiveAge   = 7 * 24 * time.Hour
	DefaultArchiveBytes = 256 << 20
)

// archiveEvery is how often the archiver writes what the bus took.
const archiveEvery = 100 * time.Millisecond

// atFormat writes an archived event's time so that its text sorts as the time does.
const atFormat = "2006-01-02T15:04:05.000000000Z"

// archiver holds what the bus took and has not written to its archive yet,
// and (read once, then kept) how many bytes of bodies the archive holds.
type archiver struct {
	mu      sync.Mutex
	pending []Published
	size    int64 // the archiver's own: only Archive's goroutine uses it
	sized   bool
}

func (a *archiver) add(ps []Published) {
	a.mu.Lock()
	a.pending = append(a.pending, ps...)
	a.mu.Unlock()
}

func (a *archiver) take() []Published {
	a.mu.Lock()
	defer a.mu.Unlock()
	ps := a.pending
	a.pending = nil
	return ps
}

// Archive writes the events the bus takes to its archive, a batch every
// archiveEvery, off the way from an event to its consumers, and forgets those
// older than Options.ArchiveAge and the oldest beyond Options.ArchiveBytes,
// until ctx ends; then it writes what waits and returns. The archive is
// history for replay, not a delivery: the events of the last moment before
// the process died may be missing from it (their queues have them). Run it
// beside the bus's publishers: until it runs, what the bus took waits in
// memory.
func (b *Bus) Archive(ctx context.Context) error {
	t := time.NewTicker(archiveEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := b.flushArchive(context.WithoutCancel(ctx)); err != nil {
				b.log.ErrorContext(ctx, "archive", "err", err)
			}
			return nil
		case <-t.C:
			if err := b.flushArchive(ctx); err != nil {
				b.log.ErrorContext(ctx, "archive", "err", err)
			}
		}
	}
}

// flushArchive writes the pending events and applies the bounds.
func (b *Bus) flushArchive(ctx context.Context) error {
	ps := b.archive.take()
	if len(ps) == 0 {
		return nil
	}
	a := &b.archive
	err := sqlitedb.InTx(ctx, b.db, func(tx *sql.Tx) error {
		size := a.size
		if !a.sized {
			if err := tx.QueryRowContext(ctx, `select coalesce(sum(length(body)), 0) from archive`).Scan(&size); err != nil {
				return err
			}
		}
		for _, p := range ps {
			detailType, _, _ := events.Peek(p.Envelope)
			if _, err := tx.ExecContext(ctx, `insert into archive (at, detail_type, body) values (?, ?, ?)`,
				p.At.UTC().Format(atFormat), detailType, []byte(p.Envelope)); err != nil {
				return err
			}
			size += int64(len(p.Envelope))
		}
		forgotten, err := forget(ctx, tx, `delete from archive where at < ? returning length(body)`, time.Now().Add(-b.opts.ArchiveAge).UTC().Format(atFormat))
		size -= forgotten
		if err == nil && size > b.opts.ArchiveBytes {
			// Down to nine tenths of the bound, so that this (a pass over the
			// whole archive) runs once in many batches, not at each.
			forgotten, err = forget(ctx, tx, `delete from archive where seq <= (
  select seq from (select seq, sum(length(body)) over (order by seq desc) as kept from archive)
  where kept > ? order by seq desc limit 1) returning length(body)`, b.opts.ArchiveBytes*9/10)
			size -= forgotten
		}
		if err == nil {
			a.size, a.sized = size, true
		}
		return err
	})
	if err != nil {
		a.sized = false // read again
		a.mu.Lock()
		a.pending = append(ps, a.pending...) // tried again with the next batch
		a.mu.Unlock()
		return fmt.Errorf("write %d events to the archive: %w", len(ps), err)
	}
	return nil
}

// forget runs a delete that returns each deleted body's length, and adds them up.
func forget(ctx context.Context, tx *sql.Tx, query string, args ...any) (int64, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var total int64
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			return 0, err
		}
		total += n
	}
	return total, rows.Err()
}

// ReplayRequest picks the archived events to send again to one queue.
type ReplayRequest struct {
	Queue      string
	From, To   time.Time // taken by the bus from From, up to (not at) To
	DetailType string    // only events of this detail-type, when set
}

// ErrBadRange refuses a replay whose range is empty.
var ErrBadRange = kind.New(kind.Invalid, "from must be before to")

// Replay sends again to r.Queue, oldest first, the archived events taken in
// r's range (of r.DetailType, if set) that the queue's rule matches, as
// EventBridge's replay with the rule as its filter does. Consumers are
// idempotent: what they applied stays as it is, what was lost comes back.
// progress, if set, is told after each batch how many were sent of how many
// the archive holds in the range. It reports how many it sent.
func (b *Bus) Replay(ctx context.Context, r ReplayRequest, progress func(sent, of int)) (int, error) {
	q, err := b.queue(r.Queue)
	if err != nil {
		return 0, err
	}
	if !r.From.Before(r.To) {
		return 0, ErrBadRange
	}
	defer b.send()()
	where := `at >= ? and at < ?`
	args := []any{r.From.UTC().Format(atFormat), r.To.UTC().Format(atFormat)}
	if r.DetailType != "" {
		where += ` and detail_type = ?`
		args = append(args, r.DetailType)
	}
	var of int
	if err := b.db.QueryRowContext(ctx, `select count(*) from archive where `+where, args...).Scan(&of); err != nil {
		return 0, fmt.Errorf("replay to %s: %w", r.Queue, err)
	}
	const page = 200
	sent, last := 0, int64(0)
	for {
		rows, err := b.db.QueryContext(ctx, `select seq, body from archive where `+where+` and seq > ? order by seq limit ?`, append(args, last, page)...)
		if err != nil {
			return sent, fmt.Errorf("replay to %s: %w", r.Queue, err)
		}
		var bodies [][]byte
		n := 0
		for rows.Next() {
			var body []byte
			if err := rows.Scan(&last, &body); err != nil {
				rows.Close()
				return sent, err
			}
			n++
			if q.rule.Pattern.Matches(body) {
				bodies = append(bodies, body)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return sent, err
		}
		if len(bodies) > 0 {
			err := sqlitedb.InTx(ctx, b.db, func(tx *sql.Tx) error {
				for _, body := range bodies {
					if err := q.q.SendTx(ctx, tx, goqite.Message{Body: body}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return sent, fmt.Errorf("replay to %s: %w", r.Queue, err)
			}
			sent += len(bodies)
			select {
			case q.wake <- struct{}{}:
			default:
			}
		}
		if progress != nil {
			progress(sent, of)
		}
		if n < page {
			return sent, nil
		}
		if err := ctx.Err(); err != nil {
			return sent, err
		}
	}
}
