package streams_test

import (
	"context"
	"encoding/json"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventshop/eventshop/internal/catalog"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/outbox/streams/eventbridgetest"
)

// The publisher's span of each event continues the trace of the write that
// made it, and the entry it puts carries that span on to the consumers; an
// entry EventBridge refuses ends its span as an error.
func TestPublishingContinuesTheEventsTrace(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev) })

	r := newRecorder(t)
	ctx, request := tp.Tracer("test").Start(context.Background(), "POST /product")
	var records = make([]catalog.Product, 2)
	for i, name := range []string{"kept", "refused"} {
		p, err := r.uc.Create(ctx, catalog.Details{Name: name, Category: "Tools", Price: 1999})
		if err != nil {
			t.Fatal(err)
		}
		records[i] = p
	}
	request.End()
	f := &eventbridgetest.Bus{}
	f.SetFail(func(_ int, e eventbridgetest.Entry) string {
		if names(t, []eventbridgetest.Entry{e})[0] == "refused" {
			return "MalformedDetail"
		}
		return ""
	})
	pub, _ := publisher(t, f)
	handle(t, pub, context.Background(), r.record(records[0].ID, "INSERT"), r.record(records[1].ID, "INSERT"))

	var spans []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == "publish "+events.TypeProductChanged {
			spans = append(spans, s)
		}
	}
	if len(spans) != 2 {
		t.Fatalf("%d publish spans, want 2", len(spans))
	}
	created := map[trace.SpanID]bool{} // the events' creation spans, under the request
	for _, s := range rec.Ended() {
		if s.Name() == "create "+events.TypeProductChanged && s.Parent().SpanID() == request.SpanContext().SpanID() {
			created[s.SpanContext().SpanID()] = true
		}
	}
	for _, s := range spans {
		if s.SpanContext().TraceID() != request.SpanContext().TraceID() || !created[s.Parent().SpanID()] {
			t.Fatalf("publish span in trace %s under %s, want under an event's creation in the request's", s.SpanContext().TraceID(), s.Parent().SpanID())
		}
	}
	published := f.Published()
	if len(published) != 1 {
		t.Fatalf("%d entries published, want 1", len(published))
	}
	var meta events.Meta
	if err := json.Unmarshal([]byte(published[0].Detail), &meta); err != nil {
		t.Fatal(err)
	}
	var ok, refused int
	for _, s := range spans {
		switch {
		case s.Status().Code == codes.Error:
			refused++
		case meta.TraceParent == "00-"+s.SpanContext().TraceID().String()+"-"+s.Parent().SpanID().String()+"-01":
			ok++ // the entry carries its creation's context, the publish span's parent
		}
	}
	if ok != 1 || refused != 1 {
		t.Fatalf("published entry's traceparent %q: %d spans match it, %d failed; want 1 and 1", meta.TraceParent, ok, refused)
	}
}
