// Package catalog is the catalog service's domain: products, their rules, and
// the repository port its adapters implement.
package catalog

import (
	"context"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/kind"
	"github.com/eventshop/eventshop/internal/money"
	"github.com/eventshop/eventshop/internal/page"
	"github.com/eventshop/eventshop/internal/validation"
)

// Domain outcomes.
var (
	ErrNotFound        = kind.New(kind.NotFound, "product not found")
	ErrVersionConflict = kind.New(kind.Conflict, "product was changed by another request; read it again and retry")
)

// Product is one item for sale. Version counts its writes, starting at 1.
type Product struct {
	ID          string
	Name        string
	Description string
	ImageFile   string
	Category    string
	Price       money.Cents
	Version     int64
}

// Details are the fields a client may set on a product.
type Details struct {
	Name        string
	Description string
	ImageFile   string
	Category    string
	Price       money.Cents
}

// Validate checks every field of d.
func (d Details) Validate() error {
	return validation.First(
		validation.Text("name", d.Name, true, 200),
		validation.Text("description", d.Description, false, 2000),
		validation.FileName("imageFile", d.ImageFile),
		validation.Text("category", d.Category, true, 64),
		ValidatePrice(d.Price),
	)
}

// ValidatePrice checks that a unit price is above zero and at most money.MaxPrice.
func ValidatePrice(p money.Cents) error {
	if p <= 0 || p > money.MaxPrice {
		return validation.Field("price", "must be more than 0 and at most %s", money.MaxPrice)
	}
	return nil
}

// Apply returns p with d's fields.
func (p Product) Apply(d Details) Product {
	p.Name, p.Description, p.ImageFile, p.Category, p.Price = d.Name, d.Description, d.ImageFile, d.Category, d.Price
	return p
}

// Store keeps products, one item per id. Every write is conditional on the
// version it expects and commits the events it is given atomically with it.
type Store interface {
	// Get returns the product with id, or ErrNotFound, as last written: what a
	// read before a write needs.
	Get(ctx context.Context, id string) (Product, error)
	// Lookup is Get for a read that writes nothing after it: it may miss
	// writes of the last second (on DynamoDB an eventually consistent read,
	// at half a strong read's cost).
	Lookup(ctx context.Context, id string) (Product, error)
	// List pages through all products in id order.
	List(ctx context.Context, req page.Request) (page.Of[Product], error)
	// ListByCategory pages through one category's products by its index.
	ListByCategory(ctx context.Context, category string, req page.Request) (page.Of[Product], error)
	// Create stores p, whose Version is 1; ErrVersionConflict if its id exists.
	Create(ctx context.Context, p Product, evts ...events.Outgoing) error
	// Update replaces the product stored at p.Version-1 with p; ErrNotFound if
	// there is none, ErrVersionConflict if another version is stored.
	Update(ctx context.Context, p Product, evts ...events.Outgoing) error
	// Delete removes the product stored at version; errors as for Update.
	Delete(ctx context.Context, id string, version int64, evts ...events.Outgoing) error
}
