package events_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/events/eventstest"
)

var (
	readerOnce sync.Once
	reader     *sdkmetric.ManualReader
)

// counted sums the points of the int64 counter name whose attribute key is value.
func counted(t *testing.T, name string, key attribute.Key, value string) int64 {
	t.Helper()
	readerOnce.Do(func() {
		reader = sdkmetric.NewManualReader()
		otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	})
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(t.Context(), &rm); err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if sum, ok := m.Data.(metricdata.Sum[int64]); ok && m.Name == name {
				for _, p := range sum.DataPoints {
					if v, _ := p.Attributes.Value(key); v.AsString() == value {
						n += p.Value
					}
				}
			}
		}
	}
	return n
}

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
	events.HandleBatch(t.Context(), batch, slog.New(slog.DiscardHandler), func(_ context.Context, env events.Envelope) error {
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
	before := counted(t, "eventshop.events.published", events.DetailTypeKey, "CountedThing")
	for _, err := range []error{nil, errors.New("throttled"), nil} {
		e, _ := events.New("src", "CountedThing", map[string]int{"n": 1}, time.Now())
		events.StartPublish(t.Context(), &e).Done(t.Context(), err)
	}
	if got := counted(t, "eventshop.events.published", events.DetailTypeKey, "CountedThing") - before; got != 2 {
		t.Fatalf("published counter moved by %d, want 2 (the failed publish is not counted)", got)
	}
}
