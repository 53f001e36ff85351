package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/eventshop/eventshop/internal/basket"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/validation"
)

// Buyer is who pays and where the order goes. Card data is never part of it.
type Buyer struct {
	FirstName     string
	LastName      string
	Email         string
	Address       string
	PaymentMethod string
}

// Validate checks every field of b.
func (b Buyer) Validate() error {
	return validation.First(
		validation.Text("firstName", b.FirstName, true, 100),
		validation.Text("lastName", b.LastName, true, 100),
		validation.Email("email", b.Email),
		validation.Text("address", b.Address, true, 500),
		validation.OneOf("paymentMethod", b.PaymentMethod, events.PaymentMethods),
	)
}

// maxCheckoutAttempts bounds retries when a concurrent write to the basket wins.
const maxCheckoutAttempts = 3

// Checkout turns userName's basket into a priced CheckoutBasket event and
// empties the basket in the same write. It returns the order id, which is the
// checkout id: the ordering service creates the order under it. An empty
// basket is ErrEmpty, unless its last checkout was made under requestKey (the
// request's Idempotency-Key): that is the same request again, after a crash
// lost its answer, and it gets the same order id.
func (s *Baskets) Checkout(ctx context.Context, userName string, buyer Buyer, requestKey string) (string, error) {
	if err := validation.First(validation.UserName("userName", userName), buyer.Validate()); err != nil {
		return "", err
	}
	for range maxCheckoutAttempts {
		id, err := s.checkoutOnce(ctx, userName, buyer, requestKey)
		if !errors.Is(err, basket.ErrVersionConflict) {
			return id, err
		}
	}
	return "", basket.ErrVersionConflict
}

// checkoutOnce checks out the basket as it reads it: priced from the prices
// kept with it, if they price every line, on
// condition that they are still the view's when the checkout is written;
// otherwise, or when they are not, priced from the view.
func (s *Baskets) checkoutOnce(ctx context.Context, userName string, buyer Buyer, requestKey string) (string, error) {
	b, err := s.current(ctx, userName)
	if err != nil {
		return "", err
	}
	if len(b.Items) == 0 {
		if requestKey != "" && b.LastCheckoutKey == requestKey {
			return b.LastCheckout, nil
		}
		return "", basket.ErrEmpty
	}
	if priced, ok := kept(b); ok {
		id, err := s.write(ctx, b, priced, buyer, requestKey, b.Prices)
		if !errors.Is(err, basket.ErrPriceUnconfirmed) {
			return id, err
		}
	}
	priced, _, err := s.price(ctx, b)
	if err != nil {
		return "", err
	}
	return s.write(ctx, b, priced, buyer, requestKey, nil)
}

// write empties b with the CheckoutBasket event of priced, on condition
// that prices are still the view's if there are any, and returns the
// checkout's id.
func (s *Baskets) write(ctx context.Context, b basket.Basket, priced basket.Priced, buyer Buyer, requestKey string, prices []basket.Price) (string, error) {
	// UUIDv7 ids sort by time, so orders keyed by them list newest first.
	id, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("checkout id: %w", err)
	}
	now := s.now().UTC()
	lines := make([]events.CheckoutLine, len(priced.Items))
	for i, l := range priced.Items {
		lines[i] = events.CheckoutLine{ProductID: l.ProductID, ProductName: l.ProductName, Color: l.Color, Quantity: l.Quantity, UnitPrice: l.UnitPrice, LineTotal: l.LineTotal}
	}
	evt, err := events.New(ctx, events.SourceCheckout, events.TypeCheckoutBasket, events.CheckoutBasket{
		CheckoutID:    id.String(),
		UserName:      b.UserName,
		FirstName:     buyer.FirstName,
		LastName:      buyer.LastName,
		Email:         buyer.Email,
		Address:       buyer.Address,
		PaymentMethod: buyer.PaymentMethod,
		Lines:         lines,
		TotalPrice:    priced.TotalPrice,
		CheckedOutAt:  now,
	}, now)
	if err != nil {
		return "", err
	}
	emptied := basket.Basket{UserName: b.UserName, Items: []basket.Item{}, Version: b.Version + 1, LastCheckout: id.String(), LastCheckoutKey: requestKey}
	if prices != nil {
		err = s.store.PutIfPrices(ctx, emptied, prices, evt)
	} else {
		err = s.store.Put(ctx, emptied, evt)
	}
	if isNotFound(err) {
		return "", basket.ErrVersionConflict
	}
	if err != nil {
		return "", err
	}
	return id.String(), nil
}
