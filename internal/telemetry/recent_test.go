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
	rec := telemetry.NewRecent(2, 0)
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

// Recent keeps at most its span budget: the oldest traces go first, and a
// trace that alone fills the budget keeps no more.
func TestRecentKeepsItsSpanBudget(t *testing.T) {
	rec := telemetry.NewRecent(100, 10)
	tracer := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)).Tracer("test")
	trace4 := func(name string) trace.TraceID { // four spans
		ctx, root := tracer.Start(context.Background(), name)
		for range 3 {
			_, s := tracer.Start(ctx, name+" step")
			s.End()
		}
		root.End()
		return root.SpanContext().TraceID()
	}
	a, b, c := trace4("a"), trace4("b"), trace4("c")
	if _, ok := rec.Get(a); ok {
		t.Error("the oldest trace is kept beyond the span budget")
	}
	for _, id := range []trace.TraceID{b, c} {
		if tr, ok := rec.Get(id); !ok || len(tr.Spans) != 4 {
			t.Errorf("trace %s: %+v, %v; want its four spans", id, tr, ok)
		}
	}
	ctx, big := tracer.Start(context.Background(), "big")
	for range 12 {
		_, s := tracer.Start(ctx, "step")
		s.End()
	}
	big.End()
	tr, _ := rec.Get(big.SpanContext().TraceID())
	if len(tr.Spans) != 10 || tr.Dropped != 3 || len(rec.List(100)) != 1 {
		t.Fatalf("a trace of 13 spans kept %d and dropped %d, beside %d traces; want 10, 3 and none", len(tr.Spans), tr.Dropped, len(rec.List(100))-1)
	}
}
