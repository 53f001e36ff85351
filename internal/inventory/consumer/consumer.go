// Package consumer keeps the inventory's list of products current from the
// catalog's ProductChanged and ProductDeleted events, as an SQS batch
// handler that runs unchanged on the local bus and on Lambda.
package consumer

import (
	"context"
	"log/slog"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/inventory/app"
)

// NewCatalog returns the consumer of catalog events.
func NewCatalog(a *app.Inventory, log *slog.Logger) func(context.Context, awsevents.SQSEvent) (awsevents.SQSEventResponse, error) {
	return func(ctx context.Context, ev awsevents.SQSEvent) (awsevents.SQSEventResponse, error) {
		return events.HandleBatch(ctx, ev, log, func(ctx context.Context, env events.Envelope) error {
			var c app.AnnounceProduct
			switch env.DetailType {
			case events.TypeProductChanged:
				var e events.ProductChanged
				if err := events.DecodeDetail(env, &e); err != nil {
					return err
				}
				c = app.AnnounceProduct{ProductID: e.ProductID, Version: e.Version}
			case events.TypeProductDeleted:
				var e events.ProductDeleted
				if err := events.DecodeDetail(env, &e); err != nil {
					return err
				}
				c = app.AnnounceProduct{ProductID: e.ProductID, Version: e.Version, Deleted: true}
			default:
				log.WarnContext(ctx, "ignoring event of unknown type", "detailType", env.DetailType, "eventId", env.ID)
				return nil
			}
			changed, err := a.Announce(ctx, c)
			if err != nil {
				return err
			}
			log.InfoContext(ctx, "inventory product", "productId", c.ProductID, "version", c.Version, "deleted", c.Deleted, "applied", changed)
			return nil
		}), nil
	}
}
