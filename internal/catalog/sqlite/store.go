// Package sqlite is the catalog's store on SQLite for the local runtime, with
// the product's events written to an outbox in the same transaction.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/eventshop/eventshop/internal/catalog"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/outbox"
	"github.com/eventshop/eventshop/internal/page"
	"github.com/eventshop/eventshop/internal/sqlitedb"
)

// Schema creates the catalog's tables.
const Schema = `
create table if not exists products (
  id          text primary key,
  name        text not null,
  description text not null,
  image_file  text not null,
  category    text not null,
  price_cents integer not null,
  version     integer not null
);
create index if not exists products_by_category on products (category, id);
` + outbox.Schema

var _ catalog.Store = (*Store)(nil)

// Store implements catalog.Store.
type Store struct {
	outbox.Store
	// products and pages hold what reads returned, until the next write.
	products *readCache[string, catalog.Product]
	pages    *readCache[pageKey, page.Of[catalog.Product]]
}

// CacheMax bounds the products the store keeps in memory.
const CacheMax = 10_000

// PageCacheMax bounds the products the store keeps in pages: the first
// pages of a hundred categories, a few hundred KB.
const PageCacheMax = 2_000

// pageKey names a page read: of the whole catalog or of one category.
type pageKey struct {
	all      bool
	category string
	req      page.Request
}

// Open opens the catalog database at path.
func Open(ctx context.Context, path string) (*Store, error) {
	base, err := outbox.Open(ctx, path, Schema)
	if err != nil {
		return nil, err
	}
	return &Store{Store: base,
		products: &readCache[string, catalog.Product]{max: CacheMax, weight: func(catalog.Product) int { return 1 }},
		pages:    &readCache[pageKey, page.Of[catalog.Product]]{max: PageCacheMax, weight: func(p page.Of[catalog.Product]) int { return len(p.Items) }},
	}, nil
}

const columns = `id, name, description, image_file, category, price_cents, version`

func scan(row sqlitedb.Scanner) (catalog.Product, error) {
	var p catalog.Product
	err := row.Scan(&p.ID, &p.Name, &p.Description, &p.ImageFile, &p.Category, &p.Price, &p.Version)
	return p, err
}

// Get implements catalog.Store, from the cache when it can.
func (s *Store) Get(ctx context.Context, id string) (catalog.Product, error) {
	p, gen, ok := s.products.get(id)
	if ok {
		return p, nil
	}
	p, err := scan(s.DB.QueryRowContext(ctx, `select `+columns+` from products where id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return catalog.Product{}, fmt.Errorf("get product %s: %w", id, catalog.ErrNotFound)
	}
	if err != nil {
		return catalog.Product{}, fmt.Errorf("get product %s: %w", id, err)
	}
	s.products.put(gen, id, p)
	return p, nil
}

// Lookup implements catalog.Store: Get, which is never stale here.
func (s *Store) Lookup(ctx context.Context, id string) (catalog.Product, error) {
	return s.Get(ctx, id)
}

type cursor struct {
	ID string `json:"id"`
}

// List implements catalog.Store.
func (s *Store) List(ctx context.Context, req page.Request) (page.Of[catalog.Product], error) {
	return s.list(ctx, pageKey{all: true, req: req}, `select `+columns+` from products where id > ? order by id limit ?`)
}

// ListByCategory implements catalog.Store; it reads the category index.
func (s *Store) ListByCategory(ctx context.Context, category string, req page.Request) (page.Of[catalog.Product], error) {
	return s.list(ctx, pageKey{category: category, req: req}, `select `+columns+` from products where category = ? and id > ? order by id limit ?`, category)
}

// list reads the page key names with query, from the cache when it can
// (stepping through a page's rows was most of reading one).
// The page's items are shared with the cache: callers only read them.
func (s *Store) list(ctx context.Context, key pageKey, query string, keys ...any) (page.Of[catalog.Product], error) {
	res, gen, ok := s.pages.get(key)
	if ok {
		return res, nil
	}
	var after cursor
	if key.req.Token != "" {
		if err := page.Decode(key.req.Token, &after); err != nil {
			return page.Of[catalog.Product]{}, err
		}
	}
	res, err := sqlitedb.Page(ctx, s.DB, key.req, query, append(keys, after.ID), scan, func(p catalog.Product) any { return cursor{ID: p.ID} })
	if err != nil {
		return page.Of[catalog.Product]{}, fmt.Errorf("list products: %w", err)
	}
	res.Items = slices.Clip(res.Items) // a caller's append copies
	s.pages.put(gen, key, res)
	return res, nil
}

// Seed writes n products, product(0) to product(n-1), straight into a new
// catalog database at path, in one transaction and with no events: a load
// test's or a benchmark's catalog, not a running shop's.
func Seed(ctx context.Context, path string, n int, product func(i int) catalog.Product) error {
	return sqlitedb.Fill(ctx, path, Schema, n, func(tx *sql.Tx, i int) error {
		_, err := insert(ctx, tx, product(i))
		return err
	})
}

// insert adds p unless its id is taken; the result says which.
func insert(ctx context.Context, tx *sql.Tx, p catalog.Product) (sql.Result, error) {
	return tx.ExecContext(ctx, `insert into products (`+columns+`) values (?, ?, ?, ?, ?, ?, ?) on conflict (id) do nothing`,
		p.ID, p.Name, p.Description, p.ImageFile, p.Category, p.Price, p.Version)
}

// Create implements catalog.Store.
func (s *Store) Create(ctx context.Context, p catalog.Product, evts ...events.Outgoing) error {
	return s.write(ctx, func(tx *sql.Tx) ([]events.Outgoing, error) {
		res, err := insert(ctx, tx, p)
		if err != nil {
			return nil, fmt.Errorf("create product %s: %w", p.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil, fmt.Errorf("create product %s: %w", p.ID, catalog.ErrVersionConflict)
		}
		return evts, nil
	})
}

// Update implements catalog.Store.
func (s *Store) Update(ctx context.Context, p catalog.Product, evts ...events.Outgoing) error {
	return s.write(ctx, func(tx *sql.Tx) ([]events.Outgoing, error) {
		res, err := tx.ExecContext(ctx, `update products set name = ?, description = ?, image_file = ?, category = ?, price_cents = ?, version = ?
			where id = ? and version = ?`, p.Name, p.Description, p.ImageFile, p.Category, p.Price, p.Version, p.ID, p.Version-1)
		if err != nil {
			return nil, fmt.Errorf("update product %s: %w", p.ID, err)
		}
		if err := conditionHeld(ctx, tx, res, p.ID); err != nil {
			return nil, fmt.Errorf("update product %s: %w", p.ID, err)
		}
		return evts, nil
	})
}

// Delete implements catalog.Store.
func (s *Store) Delete(ctx context.Context, id string, version int64, evts ...events.Outgoing) error {
	return s.write(ctx, func(tx *sql.Tx) ([]events.Outgoing, error) {
		res, err := tx.ExecContext(ctx, `delete from products where id = ? and version = ?`, id, version)
		if err != nil {
			return nil, fmt.Errorf("delete product %s: %w", id, err)
		}
		if err := conditionHeld(ctx, tx, res, id); err != nil {
			return nil, fmt.Errorf("delete product %s: %w", id, err)
		}
		return evts, nil
	})
}

// write writes as outbox.Store.Write does, and forgets the cached products
// and pages whether or not it commits (a commit whose answer was lost still
// changed them).
func (s *Store) write(ctx context.Context, fn func(*sql.Tx) ([]events.Outgoing, error)) error {
	defer s.forget()
	return s.Write(ctx, fn)
}

func (s *Store) forget() {
	s.products.forget()
	s.pages.forget()
}

// conditionHeld tells a version conflict from a missing product when a
// conditional write changed no row.
func conditionHeld(ctx context.Context, tx *sql.Tx, res sql.Result, id string) error {
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	var one int
	switch err := tx.QueryRowContext(ctx, `select 1 from products where id = ?`, id).Scan(&one); {
	case errors.Is(err, sql.ErrNoRows):
		return catalog.ErrNotFound
	case err != nil:
		return err
	default:
		return catalog.ErrVersionConflict
	}
}
