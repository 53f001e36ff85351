package app

import (
	"context"

	"github.com/google/uuid"

	"github.com/eventshop/eventshop/internal/catalog"
)

// Create adds a product with a new server-assigned id.
func (c *Catalog) Create(ctx context.Context, d catalog.Details) (catalog.Product, error) {
	if err := d.Validate(); err != nil {
		return catalog.Product{}, err
	}
	p := catalog.Product{ID: uuid.NewString(), Version: 1}.Apply(d)
	evt, err := c.changed(ctx, p)
	if err != nil {
		return catalog.Product{}, err
	}
	if err := c.store.Create(ctx, p, evt); err != nil {
		return catalog.Product{}, err
	}
	return p, nil
}
