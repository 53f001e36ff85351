package app

import (
	"context"

	"github.com/eventshop/eventshop/internal/inventory"
	"github.com/eventshop/eventshop/internal/validation"
)

// AdjustStock is the command to add units to (or take them from) a
// product's stock, relative to whatever it holds now, with why.
type AdjustStock struct {
	ProductID string
	Delta     int
	Reason    string
}

// Adjust adds c.Delta units to a tracked product's stock (a negative delta
// takes them away), never below 0 nor above inventory.MaxAvailable. Unlike
// SetAvailable it needs no version: orders reserving meanwhile do not
// change what the admin counted in or out.
func (a *Inventory) Adjust(ctx context.Context, c AdjustStock) (inventory.Stock, error) {
	err := validation.First(validation.ID("productId", c.ProductID), validation.Text("reason", c.Reason, true, MaxReasonLength))
	if err == nil && (c.Delta == 0 || c.Delta < -inventory.MaxAvailable || c.Delta > inventory.MaxAvailable) {
		err = validation.Field("delta", "must be from -%d to %d, and not 0", inventory.MaxAvailable, inventory.MaxAvailable)
	}
	if err != nil {
		return inventory.Stock{}, err
	}
	return a.store.Adjust(ctx, c.ProductID, c.Delta)
}
