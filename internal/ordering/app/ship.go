package app

import (
	"context"

	"github.com/eventshop/eventshop/internal/ordering"
	"github.com/eventshop/eventshop/internal/validation"
)

// Ship marks a PAID order shipped (a *ordering.TransitionError otherwise)
// and tells the inventory that its held stock is sold (OrderShipped).
func (o *Orders) Ship(ctx context.Context, userName, orderID string) (ordering.Order, error) {
	if err := validation.First(validation.UserName("userName", userName), validation.ID("orderId", orderID)); err != nil {
		return ordering.Order{}, err
	}
	return o.change(ctx, userName, orderID, ordering.StatusShipped, "")
}
