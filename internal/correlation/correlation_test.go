package correlation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/eventshop/eventshop/internal/correlation"
)

func TestLogLinesCarryTheCorrelationAndTrace(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(correlation.LogHandler{Handler: slog.NewJSONHandler(&buf, nil)})
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	ctx := trace.ContextWithSpanContext(correlation.With(context.Background(), "c-1"),
		trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))
	log.InfoContext(ctx, "with")
	log.InfoContext(context.Background(), "without")
	dec := json.NewDecoder(&buf)
	var with, without map[string]any
	if err := dec.Decode(&with); err != nil {
		t.Fatal(err)
	}
	if err := dec.Decode(&without); err != nil {
		t.Fatal(err)
	}
	if with["correlationId"] != "c-1" || with["trace_id"] != tid.String() || with["span_id"] != sid.String() {
		t.Fatalf("line %v", with)
	}
	if _, ok := without["trace_id"]; ok || without["correlationId"] != nil {
		t.Fatalf("line without a context's ids: %v", without)
	}
}
