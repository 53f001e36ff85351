package app

import (
	"context"

	"github.com/eventshop/eventshop/internal/inventory"
	"github.com/eventshop/eventshop/internal/validation"
)

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
