// Package sqlite is the ordering service's store on SQLite for the local
// runtime, with each write's events in an outbox in the same transaction.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/ordering"
	"github.com/eventshop/eventshop/internal/ordering/record"
	"github.com/eventshop/eventshop/internal/outbox"
	"github.com/eventshop/eventshop/internal/page"
	"github.com/eventshop/eventshop/internal/sqlitedb"
)

// Schema creates the ordering service's table: keyed like the DynamoDB table,
// by user name and a time-ordered order id.
const Schema = `
create table if not exists orders (
  user_name text not null,
  order_id  text not null,
  body      text not null,
  primary key (user_name, order_id)
);
create unique index if not exists orders_by_id on orders (order_id);
create index if not exists orders_by_status on orders (json_extract(body, '$.status'), order_id);
` + outbox.Schema

var _ ordering.Store = (*Store)(nil)

// Store implements ordering.Store, and sees every order arrive.
type Store struct {
	outbox.Store
	arrivals arrivals
}

// Open opens the ordering database at path.
func Open(ctx context.Context, path string) (*Store, error) {
	base, err := outbox.Open(ctx, path, Schema)
	if err != nil {
		return nil, err
	}
	return &Store{Store: base}, nil
}

// Create implements ordering.Store.
func (s *Store) Create(ctx context.Context, o ordering.Order, evts ...events.Outgoing) error {
	err := s.write(ctx, o, evts, `insert into orders (user_name, order_id, body) values (?, ?, ?) on conflict do nothing`,
		func(body string) []any { return []any{o.UserName, o.OrderID, body} },
		func(context.Context, *sql.Tx) error { return ordering.ErrExists })
	if err == nil && s.arrivals.created(o) {
		// The reader waiting for this order runs first: woken, it would wait
		// in this goroutine's run queue until the consumer calling Create
		// blocks. Readied after write woke the outbox relay, it holds the
		// run queue's next slot, ahead of the relay (docs/performance.md).
		runtime.Gosched()
	}
	return err
}

// Arrival implements ordering.Store: the order a reader gets is the one
// Create stored, as Get would read it back.
func (s *Store) Arrival(userName, orderID string) (<-chan ordering.Order, func()) {
	return s.arrivals.await(userName, orderID)
}

// Update implements ordering.Store with a write conditional on the stored
// version (an order stored before versions counts as version 1).
func (s *Store) Update(ctx context.Context, o ordering.Order, evts ...events.Outgoing) error {
	return s.write(ctx, o, evts, `update orders set body = ? where user_name = ? and order_id = ? and coalesce(json_extract(body, '$.version'), 1) = ?`,
		func(body string) []any { return []any{body, o.UserName, o.OrderID, o.Version - 1} },
		func(ctx context.Context, tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, `select count(*) from orders where user_name = ? and order_id = ?`, o.UserName, o.OrderID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return ordering.ErrNotFound
			}
			return ordering.ErrVersionConflict
		})
}

// Seed writes n orders, order(0) to order(n-1), straight into a new ordering
// database at path, in one transaction and with no events: a load test's
// orders, not a running shop's.
func Seed(ctx context.Context, path string, n int, order func(i int) ordering.Order) error {
	return sqlitedb.Fill(ctx, path, Schema, n, func(tx *sql.Tx, i int) error {
		o := order(i)
		body, err := json.Marshal(record.FromOrder(o))
		if err != nil {
			return fmt.Errorf("encode order %s: %w", o.OrderID, err)
		}
		_, err = tx.ExecContext(ctx, `insert into orders (user_name, order_id, body) values (?, ?, ?)`, o.UserName, o.OrderID, string(body))
		return err
	})
}

// write runs query with the order's body and adds evts to the outbox, in one
// transaction; when the query changes no row, none says why.
func (s *Store) write(ctx context.Context, o ordering.Order, evts []events.Outgoing, query string, args func(body string) []any, none func(context.Context, *sql.Tx) error) error {
	body, err := json.Marshal(record.FromOrder(o))
	if err != nil {
		return fmt.Errorf("encode order %s: %w", o.OrderID, err)
	}
	err = s.Write(ctx, func(tx *sql.Tx) ([]events.Outgoing, error) {
		res, err := tx.ExecContext(ctx, query, args(string(body))...)
		if err != nil {
			return nil, err
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, err
		} else if n == 0 {
			return nil, none(ctx, tx)
		}
		return evts, nil
	})
	if err != nil {
		return fmt.Errorf("write order %s: %w", o.OrderID, err)
	}
	return nil
}

// decode reads an order's body with the v2 decoder, which is faster than
// encoding/json at it. encoding/json wrote the body (see write), so it holds
// only what v2 reads the same way: its own names in their exact case, and
// valid UTF-8.
func decode(body string) (ordering.Order, error) {
	var r record.Order
	if err := jsonv2.Unmarshal([]byte(body), &r); err != nil {
		return ordering.Order{}, fmt.Errorf("decode order: %w", err)
	}
	return r.Order(), nil
}

// Get implements ordering.Store.
func (s *Store) Get(ctx context.Context, userName, orderID string) (ordering.Order, error) {
	var body string
	err := s.DB.QueryRowContext(ctx, `select body from orders where user_name = ? and order_id = ?`, userName, orderID).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return ordering.Order{}, fmt.Errorf("get order %s: %w", orderID, ordering.ErrNotFound)
	}
	if err != nil {
		return ordering.Order{}, fmt.Errorf("get order %s: %w", orderID, err)
	}
	return decode(body)
}

type cursor struct {
	OrderID string `json:"o"`
}

// ListByUser implements ordering.Store.
func (s *Store) ListByUser(ctx context.Context, userName string, req page.Request) (page.Of[ordering.Order], error) {
	return s.list(ctx, `select body from orders where user_name = ? and (? = '' or order_id < ?) order by order_id desc limit ?`, req, userName)
}

// List implements ordering.Store, with a status read from the index on
// the body's status.
func (s *Store) List(ctx context.Context, status string, req page.Request) (page.Of[ordering.Order], error) {
	if status == "" {
		return s.list(ctx, `select body from orders where (? = '' or order_id < ?) order by order_id desc limit ?`, req)
	}
	return s.list(ctx, `select body from orders where json_extract(body, '$.status') = ? and (? = '' or order_id < ?) order by order_id desc limit ?`, req, status)
}

func (s *Store) list(ctx context.Context, query string, req page.Request, keys ...any) (page.Of[ordering.Order], error) {
	var after cursor
	if req.Token != "" {
		if err := page.Decode(req.Token, &after); err != nil {
			return page.Of[ordering.Order]{}, err
		}
	}
	res, err := sqlitedb.Page(ctx, s.DB, req, query, append(keys, after.OrderID, after.OrderID), scanOrder,
		func(o ordering.Order) any { return cursor{OrderID: o.OrderID} })
	if err != nil {
		return page.Of[ordering.Order]{}, fmt.Errorf("list orders: %w", err)
	}
	return res, nil
}

func scanOrder(row sqlitedb.Scanner) (ordering.Order, error) {
	var body string
	if err := row.Scan(&body); err != nil {
		return ordering.Order{}, err
	}
	return decode(body)
}
