// Package sqlite keeps idempotency records in SQLite for the local runtime.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/eventshop/eventshop/internal/idempotency"
	"github.com/eventshop/eventshop/internal/sqlitedb"
)

// Schema creates the records' table. Times are Unix nanoseconds.
const Schema = `
create table if not exists idempotency (
  scope        text not null,
  key          text not null,
  fingerprint  text not null,
  started      integer not null,
  expires      integer not null,
  done         integer not null default 0,
  status       integer not null default 0,
  content_type text not null default '',
  location     text not null default '',
  body         blob not null default x'',
  primary key (scope, key)
);
create index if not exists idempotency_expires on idempotency (expires);
`

var _ idempotency.Store = (*Store)(nil)

// Store implements idempotency.Store.
type Store struct{ db *sql.DB }

// Open opens the records' database at path.
func Open(ctx context.Context, path string) (*Store, error) {
	db, err := sqlitedb.Open(ctx, path, Schema)
	if err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Claim implements idempotency.Store in one statement: the insert takes the
// key when it is free, expired or abandoned, and does nothing otherwise.
func (s *Store) Claim(ctx context.Context, r idempotency.Record, staleBefore time.Time) (idempotency.Record, error) {
	var prev idempotency.Record
	err := sqlitedb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		// Forget what has expired, a few rows at a time, so the table stays small.
		if _, err := tx.ExecContext(ctx, `delete from idempotency where rowid in (select rowid from idempotency where expires <= ? limit 16)`, r.Started.UnixNano()); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `
insert into idempotency (scope, key, fingerprint, started, expires) values (?, ?, ?, ?, ?)
on conflict (scope, key) do update set
  fingerprint = excluded.fingerprint, started = excluded.started, expires = excluded.expires,
  done = 0, status = 0, content_type = '', location = '', body = x''
where idempotency.expires <= excluded.started or (idempotency.done = 0 and idempotency.started < ?)`,
			r.Scope, r.Key, r.Fingerprint, r.Started.UnixNano(), r.Expires.UnixNano(), staleBefore.UnixNano())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		prev, err = get(ctx, tx, r.Scope, r.Key)
		if err != nil {
			return err
		}
		return idempotency.ErrExists
	})
	if err != nil && !errors.Is(err, idempotency.ErrExists) {
		return idempotency.Record{}, fmt.Errorf("claim idempotency key: %w", err)
	}
	return prev, err
}

func get(ctx context.Context, tx *sql.Tx, scope, key string) (idempotency.Record, error) {
	r := idempotency.Record{Scope: scope, Key: key}
	var started, expires int64
	err := tx.QueryRowContext(ctx, `select fingerprint, started, expires, done, status, content_type, location, body from idempotency where scope = ? and key = ?`, scope, key).
		Scan(&r.Fingerprint, &started, &expires, &r.Done, &r.Status, &r.ContentType, &r.Location, &r.Body)
	r.Started, r.Expires = time.Unix(0, started), time.Unix(0, expires)
	return r, err
}

// Complete implements idempotency.Store.
func (s *Store) Complete(ctx context.Context, r idempotency.Record) error {
	if r.Body == nil {
		r.Body = []byte{} // a 204's empty body, not NULL
	}
	res, err := sqlitedb.Exec(ctx, s.db, `update idempotency set done = 1, status = ?, content_type = ?, location = ?, body = ? where scope = ? and key = ? and started = ?`,
		r.Status, r.ContentType, r.Location, r.Body, r.Scope, r.Key, r.Started.UnixNano())
	if err != nil {
		return fmt.Errorf("complete idempotency record: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("complete idempotency record: %w", err)
	} else if n == 0 {
		return fmt.Errorf("complete idempotency record: %w", idempotency.ErrExists)
	}
	return nil
}

// Release implements idempotency.Store.
func (s *Store) Release(ctx context.Context, r idempotency.Record) error {
	if _, err := sqlitedb.Exec(ctx, s.db, `delete from idempotency where scope = ? and key = ? and started = ? and done = 0`, r.Scope, r.Key, r.Started.UnixNano()); err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}
