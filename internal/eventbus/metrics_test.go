package eventbus_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/eventstest"
	"github.com/eventshop/eventshop/internal/telemetry/metrictest"
)

var counted = metrictest.Counted

// Every message handed to a consumer counts as delivered to its queue, and
// each one that failed as failed.
func TestHandleBatchCountsDeliveredAndFailed(t *testing.T) {
	const queue = attribute.Key("messaging.destination.name")
	delivered := counted(t, "eventshop.messages.delivered", queue, "counted-q")
	failed := counted(t, "eventshop.messages.failed", queue, "counted-q")
	batch := eventstest.Batch(
		eventstest.Message(t, "a", "src", "Fine", map[string]string{"n": "1"}),
		eventstest.Message(t, "b", "src", "Error", map[string]string{"n": "2"}),
		eventstest.Message(t, "c", "src", "Fine", map[string]string{"n": "3"}),
	)
	for i := range batch.Records {
		batch.Records[i].EventSourceARN = "arn:aws:sqs:eu-west-1:123456789012:counted-q"
	}
	eventbus.HandleBatch(t.Context(), batch, slog.New(slog.DiscardHandler), func(_ context.Context, env events.Envelope) error {
		if env.DetailType == "Error" {
			return errors.New("store down")
		}
		return nil
	})
	if d, f := counted(t, "eventshop.messages.delivered", queue, "counted-q")-delivered, counted(t, "eventshop.messages.failed", queue, "counted-q")-failed; d != 3 || f != 1 {
		t.Fatalf("delivered +%d, failed +%d; want +3, +1", d, f)
	}
}

// An event counts as published when its publishing is done without an error.
func TestPublishedEventsAreCounted(t *testing.T) {
	before := counted(t, "eventshop.events.published", eventbus.DetailTypeKey, "CountedThing")
	for _, err := range []error{nil, errors.New("throttled"), nil} {
		e, _ := events.New(context.Background(), "src", "CountedThing", map[string]int{"n": 1}, time.Now())
		eventbus.StartPublish(t.Context(), testDestination, &e).Done(t.Context(), err)
	}
	if got := counted(t, "eventshop.events.published", eventbus.DetailTypeKey, "CountedThing") - before; got != 2 {
		t.Fatalf("published counter moved by %d, want 2 (the failed publish is not counted)", got)
	}
}
