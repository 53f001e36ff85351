package correlation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/eventshop/eventshop/internal/correlation"
	"github.com/eventshop/eventshop/internal/correlation/service"
)

func TestLogLinesCarryTheCorrelationAndTrace(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(correlation.LogHandler{Handler: slog.NewJSONHandler(&buf, nil)})
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	ctx := trace.ContextWithSpanContext(service.With(correlation.With(context.Background(), "c-1"), "ordering"),
		trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))
	log.InfoContext(ctx, "with")
	log.InfoContext(context.Background(), "without")
	log.InfoContext(trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid})), "unsampled")
	dec := json.NewDecoder(&buf)
	var with, without, unsampled map[string]any
	for _, v := range []*map[string]any{&with, &without, &unsampled} {
		if err := dec.Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	if with["correlationId"] != "c-1" || with["trace_id"] != tid.String() || with["span_id"] != sid.String() ||
		with["service"] != "ordering" || with["trace_sampled"] != true {
		t.Fatalf("line %v", with)
	}
	// A trace that is not recorded says so: its id points at nothing exported.
	if unsampled["trace_id"] != tid.String() || unsampled["trace_sampled"] != false {
		t.Fatalf("unsampled line %v", unsampled)
	}
	if _, ok := without["trace_id"]; ok || without["correlationId"] != nil || without["service"] != nil {
		t.Fatalf("line without a context's ids: %v", without)
	}
}
