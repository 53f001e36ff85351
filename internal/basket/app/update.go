package app

import (
	"context"
	"errors"
	"maps"
	"slices"

	"github.com/eventshop/eventshop/internal/basket"
	"github.com/eventshop/eventshop/internal/validation"
)

// Replace makes items userName's basket. Every product must be in the price
// view; the store keeps the prices beside the items, for the checkout. It does not read the basket first (two round trips on DynamoDB: the
// prices and the write): of two writes racing, the later one stands, as if
// they had come one after the other; a checkout that read the basket before
// either fails its version check and reads it again.
func (s *Baskets) Replace(ctx context.Context, userName string, items []basket.Item) (basket.Priced, error) {
	if err := validation.First(validation.UserName("userName", userName), basket.ValidateItems(items)); err != nil {
		return basket.Priced{}, err
	}
	priced, prices, err := s.price(ctx, basket.Basket{UserName: userName, Items: items})
	if err != nil {
		return basket.Priced{}, err
	}
	priced.Version, err = s.store.ReplacePriced(ctx, userName, items, slices.Collect(maps.Values(prices)))
	if err != nil {
		return basket.Priced{}, err
	}
	return priced, nil
}

func isNotFound(err error) bool { return errors.Is(err, basket.ErrNotFound) }
