package app

import (
	"context"
	"errors"

	"github.com/eventshop/eventshop/internal/basket"
	"github.com/eventshop/eventshop/internal/validation"
)

// Replace makes items userName's basket. Every product must be in the price
// view. It does not read the basket first (two round trips on DynamoDB: the
// prices and the write): of two writes racing, the later one stands, as if
// they had come one after the other; a checkout that read the basket before
// either fails its version check and reads it again.
func (s *Baskets) Replace(ctx context.Context, userName string, items []basket.Item) (basket.Priced, error) {
	if err := validation.First(validation.UserName("userName", userName), basket.ValidateItems(items)); err != nil {
		return basket.Priced{}, err
	}
	priced, err := s.price(ctx, basket.Basket{UserName: userName, Items: items})
	if err != nil {
		return basket.Priced{}, err
	}
	if priced.Version, err = s.store.Replace(ctx, userName, items); err != nil {
		return basket.Priced{}, err
	}
	return priced, nil
}

func isNotFound(err error) bool { return errors.Is(err, basket.ErrNotFound) }
