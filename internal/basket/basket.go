// Package basket is the basket service's domain: baskets, the service's own view
// of product prices (fed by catalog events), pricing, and the repository ports.
package basket

import (
	"context"
	"errors"
	"fmt"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/kind"
	"github.com/eventshop/eventshop/internal/money"
	"github.com/eventshop/eventshop/internal/page"
	"github.com/eventshop/eventshop/internal/validation"
)

// Domain outcomes.
var (
	ErrNotFound        = kind.New(kind.NotFound, "basket not found")
	ErrVersionConflict = kind.New(kind.Conflict, "basket was changed by another request; read it again and retry")
	ErrEmpty           = kind.New(kind.Unprocessable, "basket is empty")
	// ErrPriceUnconfirmed reports that the view did not confirm a price a
	// write was made on: it changed, or could not be checked just then (other
	// checkouts were checking it too). The write did not happen.
	ErrPriceUnconfirmed = errors.New("the prices the basket was priced with could not be confirmed")
)

// UnknownProductError names a product the price view does not know (never
// created, or deleted from the catalog).
type UnknownProductError struct{ ProductID string }

func (e *UnknownProductError) Error() string {
	return fmt.Sprintf("product %s is not in the catalog", e.ProductID)
}

// Kind makes an unknown product an outcome a client can act on: 422.
func (e *UnknownProductError) Kind() kind.Kind { return kind.Unprocessable }

// Limits on a basket.
const (
	MaxLines    = 50
	MaxQuantity = 99
)

// Item is one line of a basket as the client chose it: what, how many, which color.
type Item struct {
	ProductID string
	Quantity  int
	Color     string
}

// Basket is one user's basket. Version counts its writes. LastCheckout is the
// checkout that last emptied it and LastCheckoutKey the Idempotency-Key that
// checkout was sent with, so that the same request retried after a crash
// finds its order again. Prices are the view's entries its items were priced
// with when they were written, as the store keeps them (nil when written
// without: Replace, Put).
type Basket struct {
	UserName        string
	Items           []Item
	Version         int64
	LastCheckout    string
	LastCheckoutKey string
	Prices          []Price
}

// ValidateItems checks a basket's lines.
func ValidateItems(items []Item) error {
	if len(items) > MaxLines {
		return validation.Field("items", "must have at most %d lines", MaxLines)
	}
	seen := map[[2]string]bool{}
	for i, it := range items {
		field := fmt.Sprintf("items[%d]", i)
		if err := validation.First(
			validation.ID(field+".productId", it.ProductID),
			validation.Text(field+".color", it.Color, false, 32),
		); err != nil {
			return err
		}
		if it.Quantity < 1 || it.Quantity > MaxQuantity {
			return validation.Field(field+".quantity", "must be from 1 to %d", MaxQuantity)
		}
		key := [2]string{it.ProductID, it.Color}
		if seen[key] {
			return validation.Field(field, "repeats product %s in color %q; use one line with a larger quantity", it.ProductID, it.Color)
		}
		seen[key] = true
	}
	return nil
}

// Price is the basket service's view of one product, as the catalog's events
// last told it. A deleted product stays as a tombstone so that an older change
// arriving late cannot bring it back.
type Price struct {
	ProductID string
	Name      string
	Price     money.Cents
	Version   int64
	Deleted   bool
}

// PricedLine is a basket line priced from the view.
type PricedLine struct {
	ProductID   string
	ProductName string
	Color       string
	Quantity    int
	UnitPrice   money.Cents
	LineTotal   money.Cents
	// Unavailable marks a line whose product left the catalog; it is not in the total.
	Unavailable bool
}

// Priced is a basket with prices.
type Priced struct {
	UserName   string
	Items      []PricedLine
	TotalPrice money.Cents
	Version    int64
}

// PriceBasket prices b from prices. Lines whose product is missing are marked
// unavailable; the first of them is returned as an *UnknownProductError beside
// the priced basket, so that callers decide whether that is fatal.
func PriceBasket(b Basket, prices map[string]Price) (Priced, error) {
	out := Priced{UserName: b.UserName, Items: make([]PricedLine, 0, len(b.Items)), Version: b.Version}
	var missing error
	for _, it := range b.Items {
		line := PricedLine{ProductID: it.ProductID, Color: it.Color, Quantity: it.Quantity}
		p, ok := prices[it.ProductID]
		if !ok || p.Deleted {
			line.Unavailable = true
			if missing == nil {
				missing = &UnknownProductError{ProductID: it.ProductID}
			}
		} else {
			line.ProductName, line.UnitPrice = p.Name, p.Price
			line.LineTotal = p.Price.Times(it.Quantity)
			out.TotalPrice += line.LineTotal
		}
		out.Items = append(out.Items, line)
	}
	return out, missing
}

// ProductIDs lists the distinct products of baskets.
func ProductIDs(baskets ...Basket) []string {
	seen := map[string]bool{}
	var ids []string
	for _, b := range baskets {
		for _, it := range b.Items {
			if !seen[it.ProductID] {
				seen[it.ProductID] = true
				ids = append(ids, it.ProductID)
			}
		}
	}
	return ids
}

// Store keeps baskets, one item per user name.
type Store interface {
	// Get returns userName's basket, or ErrNotFound.
	Get(ctx context.Context, userName string) (Basket, error)
	// List pages through all baskets in user name order.
	List(ctx context.Context, req page.Request) (page.Of[Basket], error)
	// Replace makes items userName's basket, creating it if there is none,
	// forgets its last checkout (and any prices kept), and returns its new version. It neither reads
	// nor checks a version: a basket replaced whole is the last writer's, and
	// its new version still fails a Put made against the old one. One round
	// trip on DynamoDB.
	Replace(ctx context.Context, userName string, items []Item) (version int64, err error)
	// Put stores b with the events it caused. Version 1 creates the basket
	// (ErrVersionConflict if one exists); a later version replaces the basket
	// stored at b.Version-1 (ErrNotFound, ErrVersionConflict otherwise).
	Put(ctx context.Context, b Basket, evts ...events.Outgoing) error
	// Delete empties userName's basket and forgets its last checkout; its
	// version goes on. A basket's versions never repeat, so that a write made
	// against the basket as it was before the delete (a checkout that read
	// it) cannot land on one made after it. Deleting a missing basket is not
	// an error, and makes none.
	Delete(ctx context.Context, userName string) error
	// The prices kept beside a basket's items are the view's entries they
	// were priced with; a write conditioned on the view still holding them
	// lets a checkout priced from them skip reading the view (on DynamoDB,
	// one round trip fewer), priced as the view stands when it is written.
	// ReplacePriced is Replace, keeping prices beside the items.
	ReplacePriced(ctx context.Context, userName string, items []Item, prices []Price) (version int64, err error)
	// PutIfPrices is Put on condition that each of prices is the view's
	// entry at its version, as the store's PriceView would answer now (one
	// that answers from prices it read a moment ago may hold them to those):
	// ErrPriceUnconfirmed, and nothing written, when it is not or the store
	// cannot tell.
	PutIfPrices(ctx context.Context, b Basket, prices []Price, evts ...events.Outgoing) error
}

// PriceView is the basket service's copy of catalog prices.
type PriceView interface {
	// Prices returns the view's entries for ids; ids it does not hold are absent.
	Prices(ctx context.Context, ids []string) (map[string]Price, error)
	// ApplyPrice stores p if its version is newer than the stored one and
	// reports whether it did.
	ApplyPrice(ctx context.Context, p Price) (bool, error)
}
