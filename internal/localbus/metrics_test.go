package localbus_test

import (
	"context"
	"sync"
	"testing"

	awsevents "github.com/aws/aws-lambda-go/events"
	"go.opentelemetry.io/otel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/waittest"
)

var (
	readerOnce sync.Once
	reader     *sdkmetric.ManualReader
)

// counted returns the sum of the int64 counter name's points for queue, as
// the bus recorded them through the global meter provider.
func counted(t *testing.T, name, queue string) int64 {
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
					if v, _ := p.Attributes.Value("messaging.destination.name"); v.AsString() == queue {
						n += p.Value
					}
				}
			}
		}
	}
	return n
}

// A message moved to the dead-letter queue is counted once, by its queue.
func TestDeadLetteringIsCounted(t *testing.T) {
	before := counted(t, "eventshop.messages.dead_lettered", "qa")
	b := newBus(t)
	rec := recorder{fail: func(awsevents.SQSMessage, int) bool { return true }}
	if err := b.Publish(t.Context(), []events.Outgoing{event(t, "src.a", "X", "1")}); err != nil {
		t.Fatal(err)
	}
	stop := consume(t, b, "qa", rec.handle)
	waittest.For(t, "dead letter", func() bool { return depth(t, b, "qa-dlq") == 1 })
	stop()
	if got := counted(t, "eventshop.messages.dead_lettered", "qa") - before; got != 1 {
		t.Fatalf("dead-lettered counter moved by %d, want 1", got)
	}
}

// A message a consumer holds counts as in flight until it is settled.
func TestStatsCountMessagesInFlight(t *testing.T) {
	b := newBus(t)
	if err := b.Publish(t.Context(), []events.Outgoing{event(t, "src.a", "X", "1"), event(t, "src.a", "X", "2")}); err != nil {
		t.Fatal(err)
	}
	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	stop := consume(t, b, "qa", func(context.Context, awsevents.SQSEvent) (awsevents.SQSEventResponse, error) {
		once.Do(func() { close(held) })
		<-release
		return awsevents.SQSEventResponse{}, nil
	})
	<-held
	stats, err := b.Stats(t.Context())
	close(release)
	stop()
	if err != nil || stats[0].Queue != "qa" || stats[0].Messages != 2 || stats[0].InFlight != 2 {
		t.Fatalf("Stats while a batch of 2 is held = %+v, %v; want 2 messages, 2 in flight", stats, err)
	}
	if stats, err = b.Stats(t.Context()); err != nil || stats[0].Messages != 0 || stats[0].InFlight != 0 {
		t.Fatalf("Stats once settled = %+v, %v", stats, err)
	}
}
