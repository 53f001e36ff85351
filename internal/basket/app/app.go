// Package app holds the basket service's use cases: baskets priced from the
// service's own price view, and checkout into a CheckoutBasket event.
package app

import (
	"context"
	"errors"
	"time"

	"github.com/eventshop/eventshop/internal/basket"
	"github.com/eventshop/eventshop/internal/page"
	"github.com/eventshop/eventshop/internal/validation"
)

// Baskets runs the basket use cases.
type Baskets struct {
	store basket.Store
	view  basket.PriceView
	now   func() time.Time
}

// New returns the use cases over store and view.
func New(store basket.Store, view basket.PriceView) *Baskets {
	return &Baskets{store: store, view: view, now: time.Now}
}

// Get returns userName's basket priced as the view stands now; a user with no
// basket has an empty one.
func (s *Baskets) Get(ctx context.Context, userName string) (basket.Priced, error) {
	if err := validation.UserName("userName", userName); err != nil {
		return basket.Priced{}, err
	}
	b, err := s.current(ctx, userName)
	if err != nil {
		return basket.Priced{}, err
	}
	priced, _, err := s.price(ctx, b)
	var unknown *basket.UnknownProductError
	if errors.As(err, &unknown) {
		return priced, nil // a read shows the line as unavailable
	}
	return priced, err
}

// List pages through all baskets, priced.
func (s *Baskets) List(ctx context.Context, req page.Request) (page.Of[basket.Priced], error) {
	res, err := s.store.List(ctx, req)
	if err != nil {
		return page.Of[basket.Priced]{}, err
	}
	prices, err := s.view.Prices(ctx, basket.ProductIDs(res.Items...))
	if err != nil {
		return page.Of[basket.Priced]{}, err
	}
	out := page.Of[basket.Priced]{Items: make([]basket.Priced, 0, len(res.Items)), NextToken: res.NextToken}
	for _, b := range res.Items {
		p, _ := basket.PriceBasket(b, prices)
		out.Items = append(out.Items, p)
	}
	return out, nil
}

// Delete removes userName's basket.
func (s *Baskets) Delete(ctx context.Context, userName string) error {
	if err := validation.UserName("userName", userName); err != nil {
		return err
	}
	return s.store.Delete(ctx, userName)
}

// current returns userName's stored basket, or an empty one at version 0.
func (s *Baskets) current(ctx context.Context, userName string) (basket.Basket, error) {
	b, err := s.store.Get(ctx, userName)
	if err == nil {
		return b, nil
	}
	if isNotFound(err) {
		return basket.Basket{UserName: userName, Items: []basket.Item{}}, nil
	}
	return basket.Basket{}, err
}

// price prices b from the view; the error is an *basket.UnknownProductError
// (beside a priced basket) when a product is missing from the view. It also
// returns the view's entries b was priced with.
func (s *Baskets) price(ctx context.Context, b basket.Basket) (basket.Priced, map[string]basket.Price, error) {
	prices, err := s.view.Prices(ctx, basket.ProductIDs(b))
	if err != nil {
		return basket.Priced{}, nil, err
	}
	priced, err := basket.PriceBasket(b, prices)
	return priced, prices, err
}

// kept returns b priced from the prices kept with it, if they price every
// line; ok is false when they do not (a store that keeps none, a line whose
// product was gone).
func kept(b basket.Basket) (priced basket.Priced, ok bool) {
	prices := make(map[string]basket.Price, len(b.Prices))
	for _, p := range b.Prices {
		prices[p.ProductID] = p
	}
	priced, err := basket.PriceBasket(b, prices)
	return priced, err == nil
}
