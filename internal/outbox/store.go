package outbox

import (
	"context"
	"database/sql"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/sqlitedb"
)

// Store is what every service's SQLite store shares: its database and the
// outbox in it. A store embeds it and adds only its own queries; its writes
// go through Write, so that their events commit with them.
type Store struct {
	DB     *sql.DB // for the store's own queries
	outbox *Outbox
}

// Open opens the database at path with schema, which includes Schema.
func Open(ctx context.Context, path, schema string) (Store, error) {
	db, err := sqlitedb.Open(ctx, path, schema)
	if err != nil {
		return Store{}, err
	}
	return Store{DB: db, outbox: New(db)}, nil
}

// Outbox is where the store's events wait for the relay.
func (s Store) Outbox() *Outbox { return s.outbox }

// Close closes the database.
func (s Store) Close() error { return s.DB.Close() }

// Write runs fn in a transaction (sqlitedb.InTx, so writes commit in
// groups) and adds the events fn returns to the outbox in the same
// transaction; once they have committed, the relay is woken.
func (s Store) Write(ctx context.Context, fn func(*sql.Tx) ([]events.Outgoing, error)) error {
	added := false
	err := sqlitedb.InTx(ctx, s.DB, func(tx *sql.Tx) error {
		evts, err := fn(tx)
		if err != nil || len(evts) == 0 {
			return err
		}
		added = true
		return s.outbox.Add(ctx, tx, evts...)
	})
	if err == nil && added {
		s.outbox.Committed()
	}
	return err
}
