// Package consumer keeps the basket service's price view current from the
// catalog's ProductChanged and ProductDeleted events, as an SQS batch handler
// that runs unchanged on the local bus and on Lambda.
package consumer

import (
	"context"
	"fmt"
	"log/slog"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/eventshop/eventshop/internal/basket/app"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/validation"
)

// New returns the price view's consumer.
func New(a *app.Prices, log *slog.Logger) func(context.Context, awsevents.SQSEvent) (awsevents.SQSEventResponse, error) {
	return func(ctx context.Context, ev awsevents.SQSEvent) (awsevents.SQSEventResponse, error) {
		return events.HandleBatch(ctx, ev, log, func(ctx context.Context, env events.Envelope) error {
			return apply(ctx, a, log, env)
		}), nil
	}
}

func apply(ctx context.Context, a *app.Prices, log *slog.Logger, env events.Envelope) error {
	var (
		id      string
		version int64
		applied bool
		err     error
	)
	switch env.DetailType {
	case events.TypeProductChanged:
		var e events.ProductChanged
		if err := events.DecodeDetail(env, &e); err != nil {
			return err
		}
		id, version = e.ProductID, e.Version
		if err := validation.ID("productId", id); err != nil {
			return fmt.Errorf("event %s: %w", env.ID, err)
		}
		applied, err = a.Change(ctx, app.ChangePrice{ProductID: e.ProductID, Name: e.Name, Price: e.Price, Version: e.Version})
	case events.TypeProductDeleted:
		var e events.ProductDeleted
		if err := events.DecodeDetail(env, &e); err != nil {
			return err
		}
		id, version = e.ProductID, e.Version
		if err := validation.ID("productId", id); err != nil {
			return fmt.Errorf("event %s: %w", env.ID, err)
		}
		applied, err = a.Remove(ctx, app.RemoveProduct{ProductID: e.ProductID, Version: e.Version})
	default:
		log.WarnContext(ctx, "ignoring event of unknown type", "detailType", env.DetailType, "eventId", env.ID)
		return nil
	}
	if err != nil {
		return err
	}
	log.InfoContext(ctx, "price view", "event", env.DetailType, "productId", id, "version", version, "applied", applied)
	return nil
}
