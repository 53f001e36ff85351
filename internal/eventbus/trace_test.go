package eventbus_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/eventstest"
)

// recording sets a global tracer provider that records every span, for the
// length of the test.
func recording(t *testing.T) (*tracetest.SpanRecorder, trace.Tracer) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev) })
	return rec, tp.Tracer("test")
}

// The trace context of the span that made an event rides in its detail, and
// the consumer's span continues it: one trace from producer to consumer.
func TestAConsumerContinuesTheProducersTrace(t *testing.T) {
	rec, tracer := recording(t)
	ctx, producer := tracer.Start(context.Background(), "checkout")
	meta := events.MetaFrom(ctx)
	producer.End()
	if meta.TraceParent == "" {
		t.Fatal("MetaFrom left traceparent empty inside a span")
	}
	type detail struct {
		events.Meta
		N int `json:"n"`
	}
	batch := eventstest.Batch(
		eventstest.Message(t, "m1", "src", "Fine", detail{Meta: meta, N: 1}),
		eventstest.Message(t, "m2", "src", "Fails", detail{Meta: meta, N: 2}),
		eventstest.Message(t, "m3", "src", "Fine", detail{N: 3}), // no trace: a new one starts
	)
	var inside []trace.SpanContext
	resp := eventbus.HandleBatch(context.Background(), batch, slog.New(slog.DiscardHandler), func(ctx context.Context, env events.Envelope) error {
		inside = append(inside, trace.SpanContextFromContext(ctx))
		if env.DetailType == "Fails" {
			return errors.New("no")
		}
		return nil
	})
	if len(resp.BatchItemFailures) != 1 {
		t.Fatalf("failures %+v", resp.BatchItemFailures)
	}
	spans := rec.Ended()
	if len(spans) != 4 {
		t.Fatalf("%d spans ended, want the producer's and one per message", len(spans))
	}
	want := producer.SpanContext()
	for i, s := range spans[1:] {
		if s.SpanKind() != trace.SpanKindConsumer || !s.SpanContext().Equal(inside[i]) {
			t.Errorf("span %d: kind %v, context %v; want a consumer span, the handler's context %v", i, s.SpanKind(), s.SpanContext(), inside[i])
		}
		continues := s.SpanContext().TraceID() == want.TraceID() && s.Parent().SpanID() == want.SpanID() && s.Parent().IsRemote()
		if continues != (i < 2) {
			t.Errorf("span %d %q: trace %s parent %s; continues the producer's trace = %v", i, s.Name(), s.SpanContext().TraceID(), s.Parent().SpanID(), continues)
		}
	}
	if got := spans[2]; got.Status().Code != codes.Error || got.Name() != "process Fails" {
		t.Errorf("failed message's span: %q status %+v", got.Name(), got.Status())
	}
	if got := spans[1]; got.Status().Code == codes.Error {
		t.Errorf("handled message's span status %+v", got.Status())
	}
}

// Outside a span an event carries no trace context.
func TestMetaWithoutASpan(t *testing.T) {
	if m := events.MetaFrom(context.Background()); m.TraceParent != "" || m.TraceState != "" {
		t.Fatalf("meta %+v", m)
	}
}

// An event made inside a span has a creation span of its own (events.New),
// whose context it carries; its
// publishing is a span under that context, and leaves the detail as it is.
// An event made outside a span carries no trace, and its publishing records
// nothing.
func TestPublishingIsASpanOfTheEventsTrace(t *testing.T) {
	rec, tracer := recording(t)
	ctx, producer := tracer.Start(context.Background(), "checkout")
	e, err := events.New(ctx, "src", "Thing", struct {
		events.Meta
		N int `json:"n"`
	}{N: 7}, time.Now())
	producer.End()
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := events.New(context.Background(), "src", "Thing", map[string]int{"n": 8}, time.Now())
	made, plainMade := string(e.Detail), string(plain.Detail)

	eventbus.StartPublish(context.Background(), testDestination, &e).Done(context.Background(), nil)
	if s := eventbus.StartPublish(context.Background(), testDestination, &plain); s.IsRecording() || string(plain.Detail) != plainMade {
		t.Fatalf("an event with no trace: recording %v, detail %s", s.IsRecording(), plain.Detail)
	}
	if string(e.Detail) != made {
		t.Fatalf("publishing changed the detail: %s, was %s", e.Detail, made)
	}
	ended := rec.Ended()
	if len(ended) != 3 {
		t.Fatalf("%d spans, want the creation, the producer's and the publishing", len(ended))
	}
	create, pub := ended[0], ended[2]
	if create.Name() != "create Thing" || create.SpanKind() != trace.SpanKindInternal || create.Parent().SpanID() != producer.SpanContext().SpanID() {
		t.Fatalf("create span %q kind %v parent %s", create.Name(), create.SpanKind(), create.Parent().SpanID())
	}
	if pub.Name() != "publish Thing" || pub.SpanKind() != trace.SpanKindProducer || pub.Parent().SpanID() != create.SpanContext().SpanID() {
		t.Fatalf("publish span %q kind %v parent %s", pub.Name(), pub.SpanKind(), pub.Parent().SpanID())
	}
	var got struct {
		events.Meta
		N int `json:"n"`
	}
	if err := json.Unmarshal(e.Detail, &got); err != nil {
		t.Fatal(err)
	}
	want := "00-" + create.SpanContext().TraceID().String() + "-" + create.SpanContext().SpanID().String() + "-01"
	if got.TraceParent != want || got.N != 7 {
		t.Fatalf("detail %s: traceparent %q, want the creation's %q", e.Detail, got.TraceParent, want)
	}
}

// BenchmarkStartPublish measures what the relay adds to each traced event it
// publishes: the span, from the trace the detail carries (a checkout's,
// three lines).
func BenchmarkStartPublish(b *testing.B) {
	tp := sdktrace.NewTracerProvider()
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	b.Cleanup(func() { otel.SetTracerProvider(prev) })
	ctx, span := tp.Tracer("bench").Start(context.Background(), "checkout")
	defer span.End()
	line := events.CheckoutLine{ProductID: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", ProductName: "Widget", Quantity: 2, UnitPrice: 1999, LineTotal: 3998}
	e, err := events.New(ctx, events.SourceCheckout, events.TypeCheckoutBasket, events.CheckoutBasket{
		CheckoutID: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c", UserName: "alice", FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com",
		Address: "1 St", PaymentMethod: "invoice", Lines: []events.CheckoutLine{line, line, line}, TotalPrice: 11994, CheckedOutAt: time.Now()}, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		c := e
		eventbus.StartPublish(ctx, testDestination, &c).Done(ctx, nil)
	}
}

// testDestination is where the tests' events are published.
var testDestination = eventbus.Destination{System: eventbus.SystemLocalBus, Name: "test"}
