// Package sqlite is the payment service's store on SQLite for the local
// runtime, with each write's events in an outbox in the same transaction.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/outbox"
	"github.com/eventshop/eventshop/internal/payment"
)

// Schema creates the payments table.
const Schema = `
create table if not exists payments (
  order_id   text primary key,
  user_name  text not null,
  state      text not null,
  amount     integer not null,
  capture_id text not null default '',
  refund_id  text not null default ''
);
` + outbox.Schema

var _ payment.Store = (*Store)(nil)

// Store implements payment.Store.
type Store struct{ outbox.Store }

// Open opens the payments database at path.
func Open(ctx context.Context, path string) (*Store, error) {
	base, err := outbox.Open(ctx, path, Schema)
	if err != nil {
		return nil, err
	}
	return &Store{Store: base}, nil
}

// Get implements payment.Store.
func (s *Store) Get(ctx context.Context, orderID string) (payment.Payment, error) {
	p := payment.Payment{OrderID: orderID}
	err := s.DB.QueryRowContext(ctx, `select user_name, state, amount, capture_id, refund_id from payments where order_id = ?`, orderID).
		Scan(&p.UserName, &p.State, &p.Amount, &p.CaptureID, &p.RefundID)
	if errors.Is(err, sql.ErrNoRows) {
		return payment.Payment{}, fmt.Errorf("get payment of %s: %w", orderID, payment.ErrNotFound)
	}
	if err != nil {
		return payment.Payment{}, fmt.Errorf("get payment of %s: %w", orderID, err)
	}
	return p, nil
}

// Record implements payment.Store.
func (s *Store) Record(ctx context.Context, p payment.Payment, from string, evts ...events.Outgoing) (bool, error) {
	recorded := false
	err := s.Write(ctx, func(tx *sql.Tx) ([]events.Outgoing, error) {
		var res sql.Result
		var err error
		if from == "" {
			res, err = tx.ExecContext(ctx, `insert into payments (order_id, user_name, state, amount, capture_id, refund_id) values (?, ?, ?, ?, ?, ?) on conflict do nothing`,
				p.OrderID, p.UserName, p.State, p.Amount, p.CaptureID, p.RefundID)
		} else {
			res, err = tx.ExecContext(ctx, `update payments set state = ?, amount = ?, capture_id = ?, refund_id = ? where order_id = ? and state = ?`,
				p.State, p.Amount, p.CaptureID, p.RefundID, p.OrderID, from)
		}
		if err != nil {
			return nil, err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return nil, err
		}
		recorded = true
		return evts, nil
	})
	if err != nil {
		return false, fmt.Errorf("record payment of %s: %w", p.OrderID, err)
	}
	return recorded, nil
}
