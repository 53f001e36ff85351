package telemetry_test

import (
	"context"
	"testing"
	"time"

	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventshop/eventshop/internal/telemetry"
)

// Reads are traced at ReadTraces, unless their caller sent a sampled trace;
// writes, and spans that are not requests, up to WriteTraces at once and
// WriteTraces a second.
func TestReadsAreSampled(t *testing.T) {
	var tracer trace.Tracer
	fresh := func() { // a new sampler, its limiter full
		services, err := telemetry.NewServices(t.Context(), telemetry.NewRecent(0, 0), "test")
		if err != nil {
			t.Fatal(err)
		}
		tracer = services.Provider("test").Tracer("test")
	}
	fresh()
	sampled := func(ctx context.Context, kind trace.SpanKind, method string) int {
		n := 0
		for range 2000 {
			_, s := tracer.Start(ctx, method, trace.WithSpanKind(kind), trace.WithAttributes(semconv.HTTPRequestMethodKey.String(method)))
			if s.SpanContext().IsSampled() {
				n++
			}
			s.End()
		}
		return n
	}
	ctx := t.Context()
	if n := sampled(ctx, trace.SpanKindServer, "GET"); n == 0 || n > 2000*telemetry.ReadTraces*3 {
		t.Errorf("%d of 2000 reads traced, want about %.0f", n, 2000*telemetry.ReadTraces)
	}
	if n := sampled(ctx, trace.SpanKindServer, "HEAD"); n > 2000*telemetry.ReadTraces*3 {
		t.Errorf("%d of 2000 HEAD requests traced, want about %.0f", n, 2000*telemetry.ReadTraces)
	}
	for _, c := range []struct {
		kind   trace.SpanKind
		method string
	}{{trace.SpanKindServer, "POST"}, {trace.SpanKindServer, "DELETE"}, {trace.SpanKindInternal, "GET"}} {
		fresh()
		start := time.Now()
		n := sampled(ctx, c.kind, c.method)
		if most := telemetry.WriteTraces + int(time.Since(start).Seconds()*telemetry.WriteTraces) + 1; n < telemetry.WriteTraces || n > most {
			t.Errorf("%d of 2000 %v %s spans at once traced, want from %d to %d", n, c.kind, c.method, telemetry.WriteTraces, most)
		}
	}
	parent := trace.ContextWithRemoteSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}, TraceFlags: trace.FlagsSampled, Remote: true,
	}))
	if n := sampled(parent, trace.SpanKindServer, "GET"); n != 2000 {
		t.Errorf("%d of 2000 reads in a caller's sampled trace traced, want all", n)
	}
}
