package app

import (
	"context"

	"github.com/eventshop/eventshop/internal/basket"
	"github.com/eventshop/eventshop/internal/money"
)

// Prices keeps the price view current from what the catalog announces. It
// needs only the view, so the function that runs it on AWS gets no access to
// baskets.
type Prices struct {
	view basket.PriceView
}

// NewPrices returns the price view's use cases.
func NewPrices(view basket.PriceView) *Prices { return &Prices{view: view} }

// ChangePrice is the command to record a product's name and price as of a
// catalog version.
type ChangePrice struct {
	ProductID string
	Name      string
	Price     money.Cents
	Version   int64
}

// RemoveProduct is the command to record that a product left the catalog at
// a version.
type RemoveProduct struct {
	ProductID string
	Version   int64
}

// Change updates the price view; an older version than the view holds is
// ignored, so duplicates and reordering are harmless. It reports whether the
// view changed.
func (p *Prices) Change(ctx context.Context, c ChangePrice) (bool, error) {
	return p.view.ApplyPrice(ctx, basket.Price{ProductID: c.ProductID, Name: c.Name, Price: c.Price, Version: c.Version})
}

// Remove marks a product gone in the price view, unless the view holds a
// newer version.
func (p *Prices) Remove(ctx context.Context, c RemoveProduct) (bool, error) {
	return p.view.ApplyPrice(ctx, basket.Price{ProductID: c.ProductID, Version: c.Version, Deleted: true})
}
