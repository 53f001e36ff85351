package localbus

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/eventshop/eventshop/internal/kind"
	"github.com/eventshop/eventshop/internal/sqlitedb"
)

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
	defer b.send()()
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
