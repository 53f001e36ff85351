package telemetry_test

import (
	"context"
	"errors"
	"testing"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventshop/eventshop/internal/telemetry"
)

// Recent keeps whole traces, drops the oldest first, lists the newest
// first, and bounds the spans of one trace.
func TestRecentKeepsTheLastTraces(t *testing.T) {
	rec := telemetry.NewRecent(2)
	tracer := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)).Tracer("test")
	var ids []trace.TraceID
	for _, name := range []string{"first", "second", "third"} {
		ctx, root := tracer.Start(context.Background(), name)
		_, child := tracer.Start(ctx, name+" child")
		if name == "third" {
			child.RecordError(errors.New("boom"))
			child.SetStatus(codes.Error, "boom")
		}
		child.End()
		root.End()
		ids = append(ids, root.SpanContext().TraceID())
	}
	if _, ok := rec.Get(ids[0]); ok {
		t.Fatal("the oldest trace is still kept beyond the bound")
	}
	list := rec.List(10)
	if len(list) != 2 || list[0].TraceID != ids[2].String() || list[1].TraceID != ids[1].String() {
		t.Fatalf("list %+v, want the third trace then the second", list)
	}
	if s := list[0]; s.Name != "third" || s.Spans != 2 || !s.Error || s.End.Before(s.Start) {
		t.Fatalf("summary %+v", s)
	}
	if list[1].Error {
		t.Fatalf("second trace marked failed: %+v", list[1])
	}
	if got := rec.List(1); len(got) != 1 || got[0].TraceID != ids[2].String() {
		t.Fatalf("List(1) = %+v", got)
	}
	tr, ok := rec.Get(ids[2])
	if !ok || len(tr.Spans) != 2 {
		t.Fatalf("Get = %+v, %v", tr, ok)
	}
	child, root := tr.Spans[0], tr.Spans[1]
	if child.ParentSpanID != root.SpanID || root.ParentSpanID != "" || child.Status != "error" || root.Status != "unset" || root.Kind != "internal" {
		t.Fatalf("spans %+v", tr.Spans)
	}

	ctx, big := tracer.Start(context.Background(), "big")
	for range telemetry.MaxSpansPerTrace + 5 {
		_, s := tracer.Start(ctx, "step")
		s.End()
	}
	big.End()
	tr, _ = rec.Get(big.SpanContext().TraceID())
	if len(tr.Spans) != telemetry.MaxSpansPerTrace || tr.Dropped != 6 {
		t.Fatalf("a trace of %d spans kept %d, dropped %d", telemetry.MaxSpansPerTrace+6, len(tr.Spans), tr.Dropped)
	}
}
