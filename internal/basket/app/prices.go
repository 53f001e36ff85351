package app

import (
	"context"

	"github.com/eventshop/eventshop/internal/basket"
	"github.com/eventshop/eventshop/internal/events"
)

// Prices keeps the price view current from catalog events. It needs only the
// view, so the function that runs it on AWS gets no access to baskets.
type Prices struct {
	view basket.PriceView
}

// NewPrices returns the price view's use cases.
func NewPrices(view basket.PriceView) *Prices { return &Prices{view: view} }

// ApplyProductChanged updates the price view; an older version than the view
// holds is ignored, so duplicates and reordering are harmless.
func (p *Prices) ApplyProductChanged(ctx context.Context, e events.ProductChanged) (bool, error) {
	return p.view.ApplyPrice(ctx, basket.Price{ProductID: e.ProductID, Name: e.Name, Price: e.Price, Version: e.Version})
}

// ApplyProductDeleted marks a product gone in the price view.
func (p *Prices) ApplyProductDeleted(ctx context.Context, e events.ProductDeleted) (bool, error) {
	return p.view.ApplyPrice(ctx, basket.Price{ProductID: e.ProductID, Version: e.Version, Deleted: true})
}
