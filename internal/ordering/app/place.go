package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/money"
	"github.com/eventshop/eventshop/internal/ordering"
	"github.com/eventshop/eventshop/internal/validation"
)

// PlaceOrder is the command to place the order for a checkout: the basket's
// priced snapshot and the buyer.
type PlaceOrder struct {
	CheckoutID    string
	UserName      string
	FirstName     string
	LastName      string
	Email         string
	Address       string
	PaymentMethod string
	Lines         []ordering.Line
	TotalPrice    money.Cents
	CheckedOutAt  time.Time
}

// Place creates the order for a checkout. The order id is the checkout id and
// the write is conditional on it, so a checkout delivered twice makes one order;
// Place reports whether this call created it.
func (o *Orders) Place(ctx context.Context, c PlaceOrder) (bool, error) {
	if err := validation.First(validation.ID("checkoutId", c.CheckoutID), validation.UserName("userName", c.UserName)); err != nil {
		return false, fmt.Errorf("place order: %w", err)
	}
	if len(c.Lines) == 0 {
		return false, fmt.Errorf("place order %s: %w", c.CheckoutID, validation.Field("lines", "must not be empty"))
	}
	placed, err := events.New(ctx, events.SourceOrdering, events.TypeOrderPlaced, events.OrderPlaced{
		OrderRef:      events.OrderRef{OrderID: c.CheckoutID, UserName: c.UserName},
		Lines:         orderLines(c.Lines),
		TotalPrice:    c.TotalPrice,
		PaymentMethod: c.PaymentMethod,
	}, o.now())
	if err != nil {
		return false, err
	}
	err = o.store.Create(ctx, ordering.Order{
		OrderID:       c.CheckoutID,
		UserName:      c.UserName,
		Status:        ordering.StatusPlaced,
		Lines:         c.Lines,
		TotalPrice:    c.TotalPrice,
		FirstName:     c.FirstName,
		LastName:      c.LastName,
		Email:         c.Email,
		Address:       c.Address,
		PaymentMethod: c.PaymentMethod,
		OrderDate:     c.CheckedOutAt.UTC(),
		History:       []ordering.Change{{Status: ordering.StatusPlaced, At: c.CheckedOutAt.UTC()}},
		Version:       1,
	}, placed)
	if errors.Is(err, ordering.ErrExists) {
		return false, nil
	}
	return err == nil, err
}
