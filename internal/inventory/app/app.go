// Package app holds the inventory service's use cases: learning the catalog's
// products, setting and reading stock, and holding and releasing orders' stock.
package app

import (
	"context"
	"time"

	"github.com/eventshop/eventshop/internal/inventory"
	"github.com/eventshop/eventshop/internal/validation"
)

// DemoStock is how many units of each product the local shop's demo catalog starts with.
const DemoStock = 25

// Inventory runs the inventory use cases.
type Inventory struct {
	store inventory.Store
	now   func() time.Time
}

// New returns the use cases over store.
func New(store inventory.Store) *Inventory { return &Inventory{store: store, now: time.Now} }

// Get returns a product's stock; ErrNotFound for a product the catalog
// never announced.
func (a *Inventory) Get(ctx context.Context, productID string) (inventory.Stock, error) {
	if err := validation.ID("productId", productID); err != nil {
		return inventory.Stock{}, err
	}
	return a.store.Get(ctx, productID)
}

// MaxReasonLength bounds an adjustment's reason.
const MaxReasonLength = 200
