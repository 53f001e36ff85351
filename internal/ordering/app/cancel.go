package app

import (
	"context"

	"github.com/eventshop/eventshop/internal/ordering"
	"github.com/eventshop/eventshop/internal/validation"
)

// Cancel cancels one of userName's orders at its owner's or an admin's
// request, from PLACED, RESERVED or PAID (a *ordering.TransitionError, a
// 409, otherwise), and tells the other services (OrderCancelled).
func (o *Orders) Cancel(ctx context.Context, userName, orderID string) (ordering.Order, error) {
	if err := validation.First(validation.UserName("userName", userName), validation.ID("orderId", orderID)); err != nil {
		return ordering.Order{}, err
	}
	return o.change(ctx, userName, orderID, ordering.StatusCancelled, ordering.ReasonCustomerCancelled)
}
