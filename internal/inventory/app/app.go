// Package app holds the inventory service's use cases: learning the catalog's
// products, setting stock, and reading it.
package app

import (
	"context"

	"github.com/eventshop/eventshop/internal/inventory"
	"github.com/eventshop/eventshop/internal/validation"
)

// DemoStock is how many units of each product the local shop's demo catalog starts with.
const DemoStock = 25

// Inventory runs the inventory use cases.
type Inventory struct {
	store inventory.Store
}

// New returns the use cases over store.
func New(store inventory.Store) *Inventory { return &Inventory{store: store} }

// AnnounceProduct is the command to record that the catalog holds a product
// at a version, or deleted it.
type AnnounceProduct struct {
	ProductID string
	Version   int64
	Deleted   bool
}

// Announce records a product's announcement; an older one than the store
// holds is ignored, so duplicates and reordering are harmless. It reports
// whether anything changed.
func (a *Inventory) Announce(ctx context.Context, c AnnounceProduct) (bool, error) {
	if err := validation.ID("productId", c.ProductID); err != nil {
		return false, err
	}
	return a.store.Announce(ctx, c.ProductID, c.Version, c.Deleted)
}

// Get returns a product's stock; ErrNotFound for a product the catalog
// never announced.
func (a *Inventory) Get(ctx context.Context, productID string) (inventory.Stock, error) {
	if err := validation.ID("productId", productID); err != nil {
		return inventory.Stock{}, err
	}
	return a.store.Get(ctx, productID)
}

// SetAvailable sets the units of a product free to reserve, from 0 to
// inventory.MaxAvailable, and makes the product tracked. With ifVersion not
// 0 the stock must still be at that version.
func (a *Inventory) SetAvailable(ctx context.Context, productID string, available int, ifVersion int64) (inventory.Stock, error) {
	if err := validation.ID("productId", productID); err != nil {
		return inventory.Stock{}, err
	}
	if available < 0 || available > inventory.MaxAvailable {
		return inventory.Stock{}, validation.Field("available", "must be from 0 to %d", inventory.MaxAvailable)
	}
	if ifVersion < 0 {
		return inventory.Stock{}, validation.Field("version", "must not be negative")
	}
	return a.store.SetAvailable(ctx, productID, available, ifVersion)
}
