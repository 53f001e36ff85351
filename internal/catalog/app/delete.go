package app

import (
	"context"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/validation"
)

// Delete removes a product and tells the basket service it is gone.
func (c *Catalog) Delete(ctx context.Context, id string) error {
	if err := validation.ID("id", id); err != nil {
		return err
	}
	cur, err := c.store.Get(ctx, id)
	if err != nil {
		return err
	}
	evt, err := events.New(ctx, events.SourceCatalog, events.TypeProductDeleted, events.ProductDeleted{
		ProductID: id,
		Version:   cur.Version + 1,
	}, c.now())
	if err != nil {
		return err
	}
	return c.store.Delete(ctx, id, cur.Version, evt)
}
