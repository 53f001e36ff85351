package app

import (
	"context"

	"github.com/eventshop/eventshop/internal/validation"
)

// Commit turns what a shipped order holds into units sold.
func (a *Inventory) Commit(ctx context.Context, orderID string) error {
	if err := validation.ID("orderId", orderID); err != nil {
		return err
	}
	return a.store.Commit(ctx, orderID)
}
