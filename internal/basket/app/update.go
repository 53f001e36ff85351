package app

import (
	"context"
	"errors"

	"github.com/eventshop/eventshop/internal/basket"
	"github.com/eventshop/eventshop/internal/validation"
)

// Replace makes items userName's basket. Every product must be in the price
// view; a write that races another write to the same basket loses with
// ErrVersionConflict.
func (s *Baskets) Replace(ctx context.Context, userName string, items []basket.Item) (basket.Priced, error) {
	if err := validation.First(validation.UserName("userName", userName), basket.ValidateItems(items)); err != nil {
		return basket.Priced{}, err
	}
	cur, err := s.current(ctx, userName)
	if err != nil {
		return basket.Priced{}, err
	}
	next := basket.Basket{UserName: userName, Items: items, Version: cur.Version + 1}
	priced, err := s.price(ctx, next)
	if err != nil {
		return basket.Priced{}, err
	}
	if err := s.store.Put(ctx, next); err != nil {
		if errors.Is(err, basket.ErrNotFound) { // deleted since we read it
			return basket.Priced{}, basket.ErrVersionConflict
		}
		return basket.Priced{}, err
	}
	return priced, nil
}

func isNotFound(err error) bool { return errors.Is(err, basket.ErrNotFound) }
