// Package sqlite is the ordering service's store on SQLite for the local runtime.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/eventshop/eventshop/internal/ordering"
	"github.com/eventshop/eventshop/internal/ordering/record"
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
`

var _ ordering.Store = (*Store)(nil)

// Store implements ordering.Store.
type Store struct{ db *sql.DB }

// Open opens the ordering database at path.
func Open(ctx context.Context, path string) (*Store, error) {
	db, err := sqlitedb.Open(ctx, path, Schema)
	if err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Create implements ordering.Store.
func (s *Store) Create(ctx context.Context, o ordering.Order) error {
	body, err := json.Marshal(record.FromOrder(o))
	if err != nil {
		return fmt.Errorf("encode order %s: %w", o.OrderID, err)
	}
	res, err := s.db.ExecContext(ctx, `insert into orders (user_name, order_id, body) values (?, ?, ?) on conflict do nothing`, o.UserName, o.OrderID, string(body))
	if err != nil {
		return fmt.Errorf("create order %s: %w", o.OrderID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("create order %s: %w", o.OrderID, err)
	} else if n == 0 {
		return fmt.Errorf("create order %s: %w", o.OrderID, ordering.ErrExists)
	}
	return nil
}

func decode(body string) (ordering.Order, error) {
	var r record.Order
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		return ordering.Order{}, fmt.Errorf("decode order: %w", err)
	}
	return r.Order(), nil
}

// Get implements ordering.Store.
func (s *Store) Get(ctx context.Context, userName, orderID string) (ordering.Order, error) {
	var body string
	err := s.db.QueryRowContext(ctx, `select body from orders where user_name = ? and order_id = ?`, userName, orderID).Scan(&body)
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

// List implements ordering.Store.
func (s *Store) List(ctx context.Context, req page.Request) (page.Of[ordering.Order], error) {
	return s.list(ctx, `select body from orders where (? = '' or order_id < ?) order by order_id desc limit ?`, req)
}

func (s *Store) list(ctx context.Context, query string, req page.Request, keys ...any) (page.Of[ordering.Order], error) {
	var after cursor
	if req.Token != "" {
		if err := page.Decode(req.Token, &after); err != nil {
			return page.Of[ordering.Order]{}, err
		}
	}
	res, err := sqlitedb.Page(ctx, s.db, req, query, append(keys, after.OrderID, after.OrderID), scanOrder,
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
