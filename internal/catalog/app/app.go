// Package app holds the catalog's use cases: each write stores the product and
// the event that tells other services about it in one atomic write.
package app

import (
	"context"
	"time"

	"github.com/eventshop/eventshop/internal/catalog"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/page"
	"github.com/eventshop/eventshop/internal/validation"
)

// Catalog runs the catalog's use cases against a store.
type Catalog struct {
	store catalog.Store
	now   func() time.Time
}

// New returns the use cases over store.
func New(store catalog.Store) *Catalog {
	return &Catalog{store: store, now: time.Now}
}

// Get returns one product, possibly without the last second's writes: a
// read that a client makes to show the product, not to change it (an update
// carries no version from the client, and reads its own).
func (c *Catalog) Get(ctx context.Context, id string) (catalog.Product, error) {
	if err := validation.ID("id", id); err != nil {
		return catalog.Product{}, err
	}
	return c.store.Lookup(ctx, id)
}

// List pages through all products, or through one category's when category is set.
func (c *Catalog) List(ctx context.Context, category string, req page.Request) (page.Of[catalog.Product], error) {
	if category == "" {
		return c.store.List(ctx, req)
	}
	if err := validation.Text("category", category, true, 64); err != nil {
		return page.Of[catalog.Product]{}, err
	}
	return c.store.ListByCategory(ctx, category, req)
}

func (c *Catalog) changed(ctx context.Context, p catalog.Product) (events.Outgoing, error) {
	return events.New(ctx, events.SourceCatalog, events.TypeProductChanged, events.ProductChanged{
		ProductID: p.ID,
		Name:      p.Name,
		Category:  p.Category,
		Price:     p.Price,
		Version:   p.Version,
	}, c.now())
}
