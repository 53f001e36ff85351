package app

import (
	"context"

	"github.com/eventshop/eventshop/internal/basket"
	"github.com/eventshop/eventshop/internal/events"
)

// ApplyProductChanged updates the price view; an older version than the view
// holds is ignored, so duplicates and reordering are harmless.
func (s *Baskets) ApplyProductChanged(ctx context.Context, e events.ProductChanged) (bool, error) {
	return s.view.ApplyPrice(ctx, basket.Price{ProductID: e.ProductID, Name: e.Name, Price: e.Price, Version: e.Version})
}

// ApplyProductDeleted marks a product gone in the price view.
func (s *Baskets) ApplyProductDeleted(ctx context.Context, e events.ProductDeleted) (bool, error) {
	return s.view.ApplyPrice(ctx, basket.Price{ProductID: e.ProductID, Version: e.Version, Deleted: true})
}
