// Package sqlite is the inventory service's store on SQLite for the local
// runtime: each operation is one transaction, with its events in the outbox.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/inventory"
	"github.com/eventshop/eventshop/internal/outbox"
	"github.com/eventshop/eventshop/internal/sqlitedb"
)

// Schema creates the inventory's tables: stock per product, the units each
// order holds of each product, and each order's reservation state.
const Schema = `
create table if not exists stock (
  product_id      text primary key,
  tracked         integer not null default 0,
  available       integer not null default 0 check (available >= 0),
  reserved        integer not null default 0 check (reserved >= 0),
  deleted         integer not null default 0,
  version         integer not null default 0,
  catalog_version integer not null
);
create table if not exists holds (
  order_id   text not null,
  product_id text not null,
  quantity   integer not null,
  primary key (order_id, product_id)
);
create table if not exists reservations (
  order_id text primary key,
  outcome  text not null
);
` + outbox.Schema

// released is the outcome column of an order released before or after it reserved.
const released = "released"

var _ inventory.Store = (*Store)(nil)

// Store implements inventory.Store.
type Store struct{ outbox.Store }

// Open opens the inventory database at path.
func Open(ctx context.Context, path string) (*Store, error) {
	base, err := outbox.Open(ctx, path, Schema)
	if err != nil {
		return nil, err
	}
	return &Store{Store: base}, nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func get(ctx context.Context, q querier, productID string) (inventory.Stock, error) {
	st := inventory.Stock{ProductID: productID}
	err := q.QueryRowContext(ctx, `select tracked, available, reserved, deleted, version, catalog_version from stock where product_id = ?`, productID).
		Scan(&st.Tracked, &st.Available, &st.Reserved, &st.Deleted, &st.Version, &st.CatalogVersion)
	if errors.Is(err, sql.ErrNoRows) {
		return inventory.Stock{}, fmt.Errorf("stock of %s: %w", productID, inventory.ErrNotFound)
	}
	if err != nil {
		return inventory.Stock{}, fmt.Errorf("stock of %s: %w", productID, err)
	}
	return st, nil
}

// Get implements inventory.Store.
func (s *Store) Get(ctx context.Context, productID string) (inventory.Stock, error) {
	return get(ctx, s.DB, productID)
}

// Announce implements inventory.Store.
func (s *Store) Announce(ctx context.Context, productID string, catalogVersion int64, deleted bool) (bool, error) {
	res, err := sqlitedb.Exec(ctx, s.DB, `
insert into stock (product_id, deleted, catalog_version) values (?, ?, ?)
on conflict (product_id) do update set deleted = excluded.deleted, catalog_version = excluded.catalog_version
where excluded.catalog_version > stock.catalog_version`, productID, deleted, catalogVersion)
	if err != nil {
		return false, fmt.Errorf("announce %s: %w", productID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SetAvailable implements inventory.Store.
func (s *Store) SetAvailable(ctx context.Context, productID string, available int, ifVersion int64) (inventory.Stock, error) {
	var st inventory.Stock
	err := sqlitedb.InTx(ctx, s.DB, func(tx *sql.Tx) error {
		cur, err := get(ctx, tx, productID)
		switch {
		case err != nil:
			return err
		case cur.Deleted:
			return inventory.ErrDeleted
		case ifVersion != 0 && ifVersion != cur.Version:
			return inventory.ErrVersionConflict
		}
		st = cur
		st.Tracked, st.Available, st.Version = true, available, cur.Version+1
		_, err = tx.ExecContext(ctx, `update stock set tracked = 1, available = ?, version = ? where product_id = ?`, available, st.Version, productID)
		return err
	})
	if err != nil {
		return inventory.Stock{}, fmt.Errorf("set stock of %s: %w", productID, err)
	}
	return st, nil
}

// Adjust implements inventory.Store.
func (s *Store) Adjust(ctx context.Context, productID string, delta int) (inventory.Stock, error) {
	var st inventory.Stock
	err := sqlitedb.InTx(ctx, s.DB, func(tx *sql.Tx) error {
		cur, err := get(ctx, tx, productID)
		if err != nil {
			return err
		}
		if cur.Deleted || !cur.Tracked || cur.Available+delta < 0 || cur.Available+delta > inventory.MaxAvailable {
			return inventory.AdjustRefused(cur, delta)
		}
		st = cur
		st.Available, st.Version = cur.Available+delta, cur.Version+1
		_, err = tx.ExecContext(ctx, `update stock set available = ?, version = ? where product_id = ?`, st.Available, st.Version, productID)
		return err
	})
	if err != nil {
		return inventory.Stock{}, fmt.Errorf("adjust stock of %s: %w", productID, err)
	}
	return st, nil
}

// Reserve implements inventory.Store in one transaction: every line is
// checked, then every tracked line is taken, or none.
func (s *Store) Reserve(ctx context.Context, orderID string, lines []inventory.Need, emit inventory.EmitReserve) (inventory.ReservationOutcome, error) {
	var outcome inventory.ReservationOutcome
	err := s.Write(ctx, func(tx *sql.Tx) ([]events.Outgoing, error) {
		var prev string
		err := tx.QueryRowContext(ctx, `select outcome from reservations where order_id = ?`, orderID).Scan(&prev)
		switch {
		case err == nil && prev == released:
			outcome = inventory.AlreadyReleased
			return nil, nil
		case err == nil:
			outcome = inventory.ReservationOutcome(prev)
			return nil, nil
		case !errors.Is(err, sql.ErrNoRows):
			return nil, err
		}
		stock := map[string]inventory.Stock{}
		for _, l := range lines {
			st, err := get(ctx, tx, l.ProductID)
			switch {
			case errors.Is(err, inventory.ErrNotFound):
				continue // never announced: PlanReservation's to decide
			case err != nil:
				return nil, err
			}
			stock[l.ProductID] = st
		}
		plan := inventory.PlanReservation(lines, stock)
		outcome = plan.Outcome
		for _, h := range plan.Holds {
			if !h.Tracked {
				continue
			}
			if _, err := tx.ExecContext(ctx, `update stock set available = available - ?, reserved = reserved + ?, version = version + 1 where product_id = ?`, h.Quantity, h.Quantity, h.ProductID); err != nil {
				return nil, err
			}
			if _, err := tx.ExecContext(ctx, `insert into holds (order_id, product_id, quantity) values (?, ?, ?)`, orderID, h.ProductID, h.Quantity); err != nil {
				return nil, err
			}
		}
		if _, err := tx.ExecContext(ctx, `insert into reservations (order_id, outcome) values (?, ?)`, orderID, string(outcome)); err != nil {
			return nil, err
		}
		return callReserve(emit, outcome, plan.Short)
	})
	if err != nil {
		return "", fmt.Errorf("reserve for order %s: %w", orderID, err)
	}
	return outcome, nil
}

// Release implements inventory.Store.
func (s *Store) Release(ctx context.Context, orderID string, emit inventory.EmitRelease) error {
	err := s.Write(ctx, func(tx *sql.Tx) ([]events.Outgoing, error) {
		rows, err := tx.QueryContext(ctx, `select product_id, quantity from holds where order_id = ? order by product_id`, orderID)
		if err != nil {
			return nil, err
		}
		var held []inventory.Need
		for rows.Next() {
			var l inventory.Need
			if err := rows.Scan(&l.ProductID, &l.Quantity); err != nil {
				rows.Close()
				return nil, err
			}
			held = append(held, l)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		for _, l := range held {
			if _, err := tx.ExecContext(ctx, `update stock set available = available + ?, reserved = reserved - ?, version = version + 1 where product_id = ?`, l.Quantity, l.Quantity, l.ProductID); err != nil {
				return nil, err
			}
		}
		if _, err := tx.ExecContext(ctx, `delete from holds where order_id = ?`, orderID); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `insert into reservations (order_id, outcome) values (?, ?) on conflict (order_id) do update set outcome = excluded.outcome`, orderID, released); err != nil {
			return nil, err
		}
		if len(held) == 0 || emit == nil {
			return nil, nil
		}
		return emit(held)
	})
	if err != nil {
		return fmt.Errorf("release order %s: %w", orderID, err)
	}
	return nil
}

func callReserve(emit inventory.EmitReserve, o inventory.ReservationOutcome, short []string) ([]events.Outgoing, error) {
	if emit == nil {
		return nil, nil
	}
	return emit(o, short)
}

// Commit implements inventory.Store.
func (s *Store) Commit(ctx context.Context, orderID string) error {
	err := sqlitedb.InTx(ctx, s.DB, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `update stock set reserved = reserved - (select quantity from holds where holds.product_id = stock.product_id and holds.order_id = ?), version = version + 1
where product_id in (select product_id from holds where order_id = ?)`, orderID, orderID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `delete from holds where order_id = ?`, orderID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `update reservations set outcome = 'shipped' where order_id = ? and outcome = ?`, orderID, string(inventory.Reserved))
		return err
	})
	if err != nil {
		return fmt.Errorf("commit order %s: %w", orderID, err)
	}
	return nil
}
