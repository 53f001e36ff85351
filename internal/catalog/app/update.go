package app

import (
	"context"

	"github.com/eventshop/eventshop/internal/catalog"
	"github.com/eventshop/eventshop/internal/validation"
)

// Update replaces a product's details. When ifVersion is not 0 the product must
// still be at that version (the client's optimistic lock); in any case a
// concurrent write between the read and the write is a version conflict.
func (c *Catalog) Update(ctx context.Context, id string, d catalog.Details, ifVersion int64) (catalog.Product, error) {
	if err := validation.First(validation.ID("id", id), d.Validate()); err != nil {
		return catalog.Product{}, err
	}
	cur, err := c.store.Get(ctx, id)
	if err != nil {
		return catalog.Product{}, err
	}
	if ifVersion != 0 && ifVersion != cur.Version {
		return catalog.Product{}, catalog.ErrVersionConflict
	}
	p := cur.Apply(d)
	p.Version = cur.Version + 1
	evt, err := c.changed(ctx, p)
	if err != nil {
		return catalog.Product{}, err
	}
	if err := c.store.Update(ctx, p, evt); err != nil {
		return catalog.Product{}, err
	}
	return p, nil
}
