package eventbus

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventshop/eventshop/internal/correlation"
	"github.com/eventshop/eventshop/internal/kind"

	"github.com/eventshop/eventshop/internal/events"
)

// HandleBatch runs handle on the envelope of each SQS message and reports the
// messages it failed on, so that only those are delivered again. A message
// whose body is not an envelope fails too: after its receives run out it waits
// in the dead-letter queue for someone to look at it. A panic while handling
// one message fails that message only; the rest of the batch goes on.
//
// Messages of one flow (the same value of their contract's Key: one
// order's events, one product's) are handled one after the other, in batch
// order; different flows side by side, so that their writes share commits
// (package sqlitedb groups them) and their round trips overlap. Messages
// of no contract, or without their key, make one flow.
func HandleBatch(ctx context.Context, ev awsevents.SQSEvent, log *slog.Logger, handle func(context.Context, events.Envelope) error, opts ...BatchOption) awsevents.SQSEventResponse {
	var cfg batchConfig
	for _, o := range opts {
		o(&cfg)
	}
	n := len(ev.Records)
	errs := make([]error, n)
	envs := make([]events.Envelope, n)
	metas := make([]events.Meta, n)
	flows := map[string][]int{}
	var order []string
	for i, m := range ev.Records {
		env, err := events.Unwrap(m.Body)
		if err != nil {
			errs[i] = err
			log.ErrorContext(ctx, "message failed", "queue", queueOf(m.EventSourceARN), "messageId", m.MessageId,
				"receives", m.Attributes["ApproximateReceiveCount"], "err", err)
			continue
		}
		_ = unmarshal(env.Detail, &metas[i]) // optional: an event without it has no correlation id or trace
		envs[i] = env
		key := flowOf(env)
		if _, ok := flows[key]; !ok {
			order = append(order, key)
		}
		flows[key] = append(flows[key], i)
	}
	flowIn := func(ctx context.Context, indexes []int) {
		for _, i := range indexes {
			errs[i] = handleOne(ctx, log, ev.Records[i], envs[i], metas[i], handle)
		}
	}
	flow := func(indexes []int) { flowIn(ctx, indexes) }
	if cfg.runFlows != nil {
		fs := make([]func(context.Context), len(order))
		for i, key := range order {
			fs[i] = func(ctx context.Context) { flowIn(ctx, flows[key]) }
		}
		cfg.runFlows(ctx, fs)
	} else if len(order) == 1 {
		flow(flows[order[0]])
	} else {
		var wg sync.WaitGroup
		for _, key := range order {
			wg.Go(func() { flow(flows[key]) })
		}
		wg.Wait()
	}
	var resp awsevents.SQSEventResponse
	for i, m := range ev.Records {
		err := errs[i]
		countDelivered(ctx, queueOf(m.EventSourceARN), systemOf(m.EventSource), err != nil)
		if err != nil {
			if cfg.report != nil {
				cfg.report(m.MessageId, err)
			}
			resp.BatchItemFailures = append(resp.BatchItemFailures, awsevents.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp
}

// BatchOption changes how HandleBatch runs a batch.
type BatchOption func(*batchConfig)

type batchConfig struct {
	runFlows func(ctx context.Context, flows []func(context.Context))
	report   func(messageID string, err error)
}

// RunFlows has HandleBatch hand a batch's flows, in the order their first
// messages came, to run (with the batch's context), which calls each with
// a context derived from it and returns once every one has: the AWS
// simulation (package awssim) runs them side by side as tasks of its
// seeded scheduler, so that a seed replays exactly. Without it, each flow
// has a goroutine of its own.
func RunFlows(run func(ctx context.Context, flows []func(context.Context))) BatchOption {
	return func(c *batchConfig) { c.runFlows = run }
}

// ReportFailures has HandleBatch tell report why each message it fails
// failed. The local bus keeps the last reason of each message for its dead
// letters (Consumer.HandleReporting); SQS has no place for one, and on
// Lambda the reason is in the log line HandleBatch writes.
func ReportFailures(report func(messageID string, err error)) BatchOption {
	return func(c *batchConfig) { c.report = report }
}

// tracerName names the spans this package makes: one for each message
// handled, continuing the trace its event carries, by the global provider
// (a no-op until one is set).
const tracerName = "github.com/eventshop/eventshop/internal/eventbus"

// handleOne handles one message in a consumer span of the trace its event
// carries, records how long it waited and took, and logs its failure, if
// it fails, with its trace, span and correlation ids.
func handleOne(ctx context.Context, log *slog.Logger, m awsevents.SQSMessage, env events.Envelope, meta events.Meta, handle func(context.Context, events.Envelope) error) (err error) {
	start := time.Now()
	queue, system := queueOf(m.EventSourceARN), systemOf(m.EventSource)
	if sent, err := strconv.ParseInt(m.Attributes["SentTimestamp"], 10, 64); err == nil {
		waitDuration.Record(ctx, max(start.Sub(time.UnixMilli(sent)).Seconds(), 0), attributesOf(queue, system).queue)
	}
	if meta.CorrelationID != "" {
		ctx = correlation.With(ctx, correlation.Sanitize(meta.CorrelationID))
	}
	ctx, span := otel.Tracer(tracerName).Start(meta.Context(ctx), "process "+env.DetailType, trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			semconv.MessagingSystemKey.String(system),
			semconv.MessagingOperationTypeProcess,
			semconv.MessagingOperationName("process"),
			semconv.MessagingMessageID(m.MessageId),
			semconv.MessagingDestinationName(queue),
			attribute.String("event.source", env.Source),
			attribute.String("event.id", env.ID),
		))
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
		took := time.Since(start).Seconds()
		if err == nil {
			processDuration.Record(ctx, took, attributesOf(queue, system).processed)
		} else {
			span.RecordError(err)
			span.SetStatus(codes.Error, "message failed")
			_, k := kind.Of(err)
			processDuration.Record(ctx, took, metric.WithAttributes(semconv.MessagingSystemKey.String(system),
				semconv.MessagingOperationName("process"), semconv.MessagingDestinationName(queue), semconv.ErrorTypeKey.String(k.String())))
			log.ErrorContext(ctx, "message failed", "queue", queue, "messageId", m.MessageId,
				"receives", m.Attributes["ApproximateReceiveCount"], "detailType", env.DetailType, "err", err)
		}
		span.End()
	}()
	return handle(ctx, env)
}

// The messaging systems of the shop's spans (messaging.system): SQS
// delivers to consumers and EventBridge takes publishes on AWS, the local
// bus (whose messages say EventSourceLocalBus) does both locally.
const (
	SystemSQS           = "aws_sqs"
	SystemEventBridge   = "aws_eventbridge"
	SystemLocalBus      = "eventshop_localbus"
	EventSourceLocalBus = "eventshop:localbus"
)

// systemOf is the messaging system of an SQS-shaped message by its event source.
func systemOf(eventSource string) string {
	if eventSource == EventSourceLocalBus {
		return SystemLocalBus
	}
	return SystemSQS
}

// Destination is where events are published: a messaging system and the
// bus's name, for the spans of publishing.
type Destination struct{ System, Name string }

// Publisher puts events on a bus; it may be given an event more than once.
type Publisher interface {
	Publish(ctx context.Context, evts []events.Outgoing) error
	// Destination names the bus, for the spans of publishing.
	Destination() Destination
}

// queueOf is the last part of a queue's ARN.
func queueOf(arn string) string {
	if i := strings.LastIndexByte(arn, ':'); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

// PublishSpan is the span of publishing one event.
type PublishSpan struct {
	trace.Span
	event *events.Outgoing
}

// Done ends the span, marked failed if err is not nil, and counts the event
// as published, or as failed to.
func (s PublishSpan) Done(ctx context.Context, err error) {
	if err != nil {
		s.RecordError(err)
		s.SetStatus(codes.Error, "publish failed")
		countPublishFailed(ctx, s.event.DetailType)
	} else {
		countPublished(ctx, s.event)
	}
	s.End()
}

// StartPublish starts the span of publishing e to to, a producer span
// continuing the trace e's detail carries (its creation's, events.New). The
// caller calls Done once e is published or has failed. An event with no
// trace, or no tracer provider to record one, gets a span that records
// nothing.
func StartPublish(ctx context.Context, to Destination, e *events.Outgoing) PublishSpan {
	var meta events.Meta
	if jsonv2.Unmarshal(e.Detail, &meta) != nil || meta.TraceParent == "" {
		return PublishSpan{trace.SpanFromContext(context.Background()), e} // a no-op span
	}
	_, span := otel.Tracer(tracerName).Start(meta.Context(ctx), "publish "+e.DetailType, trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(
			semconv.MessagingSystemKey.String(to.System),
			semconv.MessagingOperationTypeSend,
			semconv.MessagingOperationName("publish"),
			semconv.MessagingMessageID(e.ID),
			semconv.MessagingDestinationName(to.Name),
			attribute.String("event.source", e.Source), attribute.String("event.id", e.ID)))
	return PublishSpan{span, e}
}

func unmarshal(data []byte, v any) error { return jsonv2.Unmarshal(data, v) }

// keys maps each contract's detail-type to the detail field its Key names.
var keys = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	for _, c := range events.Contracts() {
		m[c.DetailType] = c.Key
	}
	return m
})

// flowOf is the flow env belongs to: the string value of its contract's
// key at the detail's top level, or "" for none. It reads the detail's
// tokens up to that field, decoding nothing else.
func flowOf(env events.Envelope) string {
	name := keys()[env.DetailType]
	if name == "" {
		return ""
	}
	dec := jsontext.NewDecoder(bytes.NewReader(env.Detail))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return ""
	}
	for dec.PeekKind() != '}' {
		k, err := dec.ReadToken()
		if err != nil {
			return ""
		}
		if k.String() != name {
			if dec.SkipValue() != nil {
				return ""
			}
			continue
		}
		if v, err := dec.ReadToken(); err == nil && v.Kind() == '"' {
			return v.String()
		}
		return ""
	}
	return ""
}
