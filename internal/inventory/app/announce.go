package app

import (
	"context"

	"github.com/eventshop/eventshop/internal/validation"
)

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
