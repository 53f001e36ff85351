package events

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
)

// The event flow's counters, recorded through the global meter provider:
// Prometheus at /metrics in the local shop, CloudWatch (EMF log lines) on
// AWS, nothing until a provider is set.
var (
	publishedEvents = counter("eventshop.events.published", "{event}",
		"Events handed to the bus (the local bus or EventBridge), by detail type.")
	deliveredMessages = counter("eventshop.messages.delivered", "{message}",
		"Messages handed to a consumer, by queue; a message delivered again counts again.")
	failedMessages = counter("eventshop.messages.failed", "{message}",
		"Messages a consumer failed, by queue: each is delivered again or, once its receives run out, dead-lettered.")
)

func counter(name, unit, description string) metric.Int64Counter {
	c, err := otel.Meter(tracerName).Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(description))
	if err != nil {
		panic(err) // a name or unit the API refuses: a programming error
	}
	return c
}

// DetailTypeKey is the metric attribute naming an event's detail type.
const DetailTypeKey = attribute.Key("event.detail_type")

func countPublished(ctx context.Context, detailType string) {
	publishedEvents.Add(ctx, 1, metric.WithAttributes(DetailTypeKey.String(detailType)))
}

// countDelivered counts one message of queue handed to its consumer, and
// whether it failed.
func countDelivered(ctx context.Context, queue string, failed bool) {
	attrs := metric.WithAttributeSet(attribute.NewSet(semconv.MessagingDestinationName(queue)))
	deliveredMessages.Add(ctx, 1, attrs)
	if failed {
		failedMessages.Add(ctx, 1, attrs)
	}
}
