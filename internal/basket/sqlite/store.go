// Package sqlite is the basket service's store on SQLite for the local runtime:
// baskets, the price view, and an outbox written in the same transactions.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/eventshop/eventshop/internal/basket"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/money"
	"github.com/eventshop/eventshop/internal/outbox"
	"github.com/eventshop/eventshop/internal/page"
	"github.com/eventshop/eventshop/internal/sqlitedb"
)

// Schema creates the basket service's tables.
const Schema = `
create table if not exists baskets (
  user_name     text primary key,
  items         text not null, -- a JSON array of items, or {"items":[...],"prices":[...]} with the prices kept
  version       integer not null,
  last_checkout text not null default ''
);
create table if not exists prices (
  product_id  text primary key,
  name        text not null,
  price_cents integer not null,
  version     integer not null,
  deleted     integer not null
);
` + outbox.Schema

var (
	_ basket.Store     = (*Store)(nil)
	_ basket.PriceView = (*Store)(nil)
)

// Store implements basket.Store and basket.PriceView.
type Store struct{ outbox.Store }

// Open opens the basket database at path.
func Open(ctx context.Context, path string) (*Store, error) {
	base, err := outbox.Open(ctx, path, Schema)
	if err != nil {
		return nil, err
	}
	return &Store{Store: base}, nil
}

func scanBasket(row sqlitedb.Scanner) (basket.Basket, error) {
	var (
		b           basket.Basket
		items, last string
	)
	if err := row.Scan(&b.UserName, &items, &b.Version, &last); err != nil {
		return basket.Basket{}, err
	}
	b.LastCheckout, b.LastCheckoutKey, _ = strings.Cut(last, " ")
	var err error
	if b.Items, b.Prices, err = decodeItems(items); err != nil {
		return basket.Basket{}, err
	}
	return b, nil
}

// itemsRecord is the items column with prices kept: an object, where a
// basket without them (and every basket written before prices were kept
// here) is the bare array of its items.
type itemsRecord struct {
	Items  []itemRecord `json:"items"`
	Prices []keptPrice  `json:"prices"`
}

// keptPrice is a view's entry as the items column keeps it.
// itemRecord is a basket's item as the items column keeps it.
type itemRecord struct {
	ProductID string `json:"productId"`
	Quantity  int    `json:"quantity"`
	Color     string `json:"color,omitempty"`
}

func itemRecords(items []basket.Item) []itemRecord {
	out := make([]itemRecord, len(items))
	for i, it := range items {
		out[i] = itemRecord(it)
	}
	return out
}

func itemsOf(records []itemRecord) []basket.Item {
	out := make([]basket.Item, len(records))
	for i, r := range records {
		out[i] = basket.Item(r)
	}
	return out
}

type keptPrice struct {
	ProductID string      `json:"productId"`
	Name      string      `json:"name"`
	Price     money.Cents `json:"priceCents"`
	Version   int64       `json:"version"`
	Deleted   bool        `json:"deleted,omitempty"`
}

func decodeItems(column string) ([]basket.Item, []basket.Price, error) {
	if !strings.HasPrefix(column, "{") {
		var items []itemRecord
		if err := json.Unmarshal([]byte(column), &items); err != nil {
			return nil, nil, fmt.Errorf("decode items: %w", err)
		}
		return itemsOf(items), nil, nil
	}
	var r itemsRecord
	if err := json.Unmarshal([]byte(column), &r); err != nil {
		return nil, nil, fmt.Errorf("decode items: %w", err)
	}
	prices := make([]basket.Price, len(r.Prices))
	for i, p := range r.Prices {
		prices[i] = basket.Price{ProductID: p.ProductID, Name: p.Name, Price: p.Price, Version: p.Version, Deleted: p.Deleted}
	}
	return itemsOf(r.Items), prices, nil
}

// Get implements basket.Store.
func (s *Store) Get(ctx context.Context, userName string) (basket.Basket, error) {
	b, err := scanBasket(s.DB.QueryRowContext(ctx, `select user_name, items, version, last_checkout from baskets where user_name = ?`, userName))
	if errors.Is(err, sql.ErrNoRows) {
		return basket.Basket{}, fmt.Errorf("get basket %s: %w", userName, basket.ErrNotFound)
	}
	if err != nil {
		return basket.Basket{}, fmt.Errorf("get basket %s: %w", userName, err)
	}
	return b, nil
}

type cursor struct {
	UserName string `json:"u"`
}

// List implements basket.Store.
func (s *Store) List(ctx context.Context, req page.Request) (page.Of[basket.Basket], error) {
	var after cursor
	if req.Token != "" {
		if err := page.Decode(req.Token, &after); err != nil {
			return page.Of[basket.Basket]{}, err
		}
	}
	res, err := sqlitedb.Page(ctx, s.DB, req, `select user_name, items, version, last_checkout from baskets where user_name > ? order by user_name limit ?`,
		[]any{after.UserName}, scanBasket, func(b basket.Basket) any { return cursor{UserName: b.UserName} })
	if err != nil {
		return page.Of[basket.Basket]{}, fmt.Errorf("list baskets: %w", err)
	}
	return res, nil
}

// Replace implements basket.Store.
func (s *Store) Replace(ctx context.Context, userName string, items []basket.Item) (int64, error) {
	return s.ReplacePriced(ctx, userName, items, nil)
}

// ReplacePriced implements basket.Store: Replace, with the prices kept in
// the items column.
func (s *Store) ReplacePriced(ctx context.Context, userName string, items []basket.Item, prices []basket.Price) (int64, error) {
	encoded, err := encodeItems(items, prices)
	if err != nil {
		return 0, err
	}
	var version int64
	err = sqlitedb.InTx(ctx, s.DB, func(tx *sql.Tx) error { // commits with other writes
		return tx.QueryRowContext(ctx, `insert into baskets (user_name, items, version, last_checkout) values (?, ?, 1, '')
			on conflict (user_name) do update set items = excluded.items, version = baskets.version + 1, last_checkout = ''
			returning version`, userName, encoded).Scan(&version)
	})
	if err != nil {
		return 0, fmt.Errorf("replace basket %s: %w", userName, err)
	}
	return version, nil
}

// encodeItems is the items column: a JSON array, empty rather than null,
// or, with prices kept, an itemsRecord.
func encodeItems(items []basket.Item, prices []basket.Price) (string, error) {
	records := itemRecords(items)
	var v any = records
	if len(prices) > 0 {
		r := itemsRecord{Items: records, Prices: make([]keptPrice, len(prices))}
		for i, p := range prices {
			r.Prices[i] = keptPrice{ProductID: p.ProductID, Name: p.Name, Price: p.Price, Version: p.Version, Deleted: p.Deleted}
		}
		v = r
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode items: %w", err)
	}
	return string(b), nil
}

// Put implements basket.Store.
func (s *Store) Put(ctx context.Context, b basket.Basket, evts ...events.Outgoing) error {
	return s.put(ctx, b, nil, evts)
}

// PutIfPrices implements basket.Store: the view is in the same database,
// so the check and the write are one transaction.
func (s *Store) PutIfPrices(ctx context.Context, b basket.Basket, prices []basket.Price, evts ...events.Outgoing) error {
	return s.put(ctx, b, prices, evts)
}

// put writes b with evts, on condition, when prices are given, that the
// view holds each at its version.
func (s *Store) put(ctx context.Context, b basket.Basket, prices []basket.Price, evts []events.Outgoing) error {
	items, err := encodeItems(b.Items, b.Prices)
	if err != nil {
		return err
	}
	err = s.Write(ctx, func(tx *sql.Tx) ([]events.Outgoing, error) {
		for _, p := range prices {
			var version int64
			err := tx.QueryRowContext(ctx, `select version from prices where product_id = ?`, p.ProductID).Scan(&version)
			if errors.Is(err, sql.ErrNoRows) || (err == nil && version != p.Version) {
				return nil, fmt.Errorf("put basket %s: %s at version %d: %w", b.UserName, p.ProductID, p.Version, basket.ErrPriceUnconfirmed)
			}
			if err != nil {
				return nil, err
			}
		}
		var res sql.Result
		var err error
		if b.Version == 1 {
			res, err = tx.ExecContext(ctx, `insert into baskets (user_name, items, version, last_checkout) values (?, ?, 1, ?) on conflict do nothing`,
				b.UserName, items, lastCheckout(b))
		} else {
			res, err = tx.ExecContext(ctx, `update baskets set items = ?, version = ?, last_checkout = ? where user_name = ? and version = ?`,
				items, b.Version, lastCheckout(b), b.UserName, b.Version-1)
		}
		if err != nil {
			return nil, fmt.Errorf("put basket %s: %w", b.UserName, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, err
		} else if n == 0 {
			return nil, fmt.Errorf("put basket %s: %w", b.UserName, s.missingOrConflict(ctx, tx, b))
		}
		return evts, nil
	})
	return err
}

func (s *Store) missingOrConflict(ctx context.Context, tx *sql.Tx, b basket.Basket) error {
	if b.Version == 1 {
		return basket.ErrVersionConflict
	}
	var one int
	if err := tx.QueryRowContext(ctx, `select 1 from baskets where user_name = ?`, b.UserName).Scan(&one); errors.Is(err, sql.ErrNoRows) {
		return basket.ErrNotFound
	}
	return basket.ErrVersionConflict
}

// Delete implements basket.Store.
func (s *Store) Delete(ctx context.Context, userName string) error {
	if _, err := sqlitedb.Exec(ctx, s.DB, `update baskets set items = '[]', version = version + 1, last_checkout = '' where user_name = ?`, userName); err != nil {
		return fmt.Errorf("delete basket %s: %w", userName, err)
	}
	return nil
}

// Prices implements basket.PriceView.
func (s *Store) Prices(ctx context.Context, ids []string) (map[string]basket.Price, error) {
	out := make(map[string]basket.Price, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := s.DB.QueryContext(ctx, `select product_id, name, price_cents, version, deleted from prices where product_id in (?`+strings.Repeat(",?", len(ids)-1)+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("read prices: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p basket.Price
		if err := rows.Scan(&p.ProductID, &p.Name, &p.Price, &p.Version, &p.Deleted); err != nil {
			return nil, fmt.Errorf("read prices: %w", err)
		}
		out[p.ProductID] = p
	}
	return out, rows.Err()
}

// ApplyPrice implements basket.PriceView.
func (s *Store) ApplyPrice(ctx context.Context, p basket.Price) (bool, error) {
	res, err := sqlitedb.Exec(ctx, s.DB, `insert into prices (product_id, name, price_cents, version, deleted) values (?, ?, ?, ?, ?)
		on conflict (product_id) do update set name = excluded.name, price_cents = excluded.price_cents, version = excluded.version, deleted = excluded.deleted
		where excluded.version > prices.version`, p.ProductID, p.Name, p.Price, p.Version, p.Deleted)
	if err != nil {
		return false, fmt.Errorf("apply price %s v%d: %w", p.ProductID, p.Version, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// lastCheckout is the last_checkout column: the checkout id, then a space and
// the Idempotency-Key it was sent with, if any (ids hold no spaces).
func lastCheckout(b basket.Basket) string {
	if b.LastCheckoutKey == "" {
		return b.LastCheckout
	}
	return b.LastCheckout + " " + b.LastCheckoutKey
}
