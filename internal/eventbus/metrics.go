package eventbus

import (
	"context"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"

	"github.com/eventshop/eventshop/internal/events"
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
	publishFailures = counter("eventshop.events.publish.failures", "{event}",
		"Events a publish failed to hand to the bus, by detail type; the outbox keeps them and tries again.")
	sagaOutcomes = counter("eventshop.orders.outcomes", "{order}",
		"Orders that reached a step of their saga: placed, paid, shipped or cancelled (with the reason), as the event saying so is published.")
	refunds = counter("eventshop.payments.refunded", "{payment}",
		"Payments refunded, as the event saying so is published.")
	stockRefusals = counter("eventshop.stock.refusals", "{order}",
		"Orders whose stock could not be held, by reason (out_of_stock, product_unavailable), as the event saying so is published.")

	processDuration = histogram("messaging.process.duration",
		"Duration of processing a message, by queue, with error.type when it failed.")
	waitDuration = histogram("eventshop.messages.wait.duration",
		"Time a message waited in its queue, from its sending to its delivery to the consumer, by queue.")
)

// LatencyBuckets are the bounds, in seconds, of the shop's duration
// histograms (requests, message handling, queue waits): a local request or
// message is far quicker than the semantic conventions' default first bound,
// which would put every one in the first bucket.
var LatencyBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

func histogram(name, description string) metric.Float64Histogram {
	h, err := otel.Meter(tracerName).Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(description),
		metric.WithExplicitBucketBoundaries(LatencyBuckets...))
	if err != nil {
		panic(err) // a name or unit the API refuses: a programming error
	}
	return h
}

func counter(name, unit, description string) metric.Int64Counter {
	c, err := otel.Meter(tracerName).Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(description))
	if err != nil {
		panic(err) // a name or unit the API refuses: a programming error
	}
	return c
}

// DetailTypeKey is the metric attribute naming an event's detail type.
const DetailTypeKey = attribute.Key("event.detail_type")

// Metric attributes of the saga's counters.
const (
	OutcomeKey = attribute.Key("eventshop.order.outcome")
	ReasonKey  = attribute.Key("eventshop.reason")
)

// countPublished counts e as published and, for the saga's events, the
// step it says an order reached.
func countPublished(ctx context.Context, e *events.Outgoing) {
	publishedEvents.Add(ctx, 1, metric.WithAttributes(DetailTypeKey.String(e.DetailType)))
	var why struct {
		Reason string `json:"reason"`
	}
	switch e.DetailType {
	case events.TypeOrderPlaced:
		sagaOutcomes.Add(ctx, 1, metric.WithAttributes(OutcomeKey.String("placed")))
	case events.TypePaymentCaptured:
		sagaOutcomes.Add(ctx, 1, metric.WithAttributes(OutcomeKey.String("paid")))
	case events.TypeOrderShipped:
		sagaOutcomes.Add(ctx, 1, metric.WithAttributes(OutcomeKey.String("shipped")))
	case events.TypeOrderCancelled:
		_ = unmarshal(e.Detail, &why)
		sagaOutcomes.Add(ctx, 1, metric.WithAttributes(OutcomeKey.String("cancelled"), ReasonKey.String(why.Reason)))
	case events.TypePaymentRefunded:
		refunds.Add(ctx, 1)
	case events.TypeStockRejected:
		_ = unmarshal(e.Detail, &why)
		stockRefusals.Add(ctx, 1, metric.WithAttributes(ReasonKey.String(why.Reason)))
	}
}

// countPublishFailed counts e as not published.
func countPublishFailed(ctx context.Context, detailType string) {
	publishFailures.Add(ctx, 1, metric.WithAttributes(DetailTypeKey.String(detailType)))
}

// countDelivered counts one message of queue handed to its consumer, and
// whether it failed.
func countDelivered(ctx context.Context, queue, system string, failed bool) {
	attrs := attributesOf(queue, system).queue
	deliveredMessages.Add(ctx, 1, attrs)
	if failed {
		failedMessages.Add(ctx, 1, attrs)
	}
}

// queueAttributes are a queue's metric attributes: by queue alone, and of
// its processing (system, operation, queue).
type queueAttributes struct{ queue, processed metric.MeasurementOption }

type queueKey struct{ queue, system string }

// queues keeps each queue's attributes, made once rather than per message.
var queues sync.Map // queueKey → queueAttributes

func attributesOf(queue, system string) queueAttributes {
	k := queueKey{queue, system}
	if a, ok := queues.Load(k); ok {
		return a.(queueAttributes)
	}
	a := queueAttributes{
		queue: metric.WithAttributeSet(attribute.NewSet(semconv.MessagingDestinationName(queue))),
		processed: metric.WithAttributeSet(attribute.NewSet(semconv.MessagingSystemKey.String(system),
			semconv.MessagingOperationName("process"), semconv.MessagingDestinationName(queue))),
	}
	queues.Store(k, a)
	return a
}
