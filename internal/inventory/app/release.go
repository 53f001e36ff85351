package app

import (
	"context"

	"github.com/eventshop/eventshop/internal/validation"
)

// Release gives back what an order holds; a release before the reservation
// makes the reservation take nothing.
func (a *Inventory) Release(ctx context.Context, orderID string) error {
	if err := validation.ID("orderId", orderID); err != nil {
		return err
	}
	return a.store.Release(ctx, orderID, nil)
}
