package telemetry_test

import (
	"testing"

	"github.com/eventshop/eventshop/internal/telemetry"
	"github.com/eventshop/eventshop/internal/telemetry/otlptest"
)

// With an OTLP endpoint in the environment, spans are exported to it over
// OTLP/HTTP as well as kept.
func TestSpansAreExportedOverOTLP(t *testing.T) {
	collector := otlptest.Start(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	rec := telemetry.NewRecent(10, 0)
	services, err := telemetry.NewServices(t.Context(), rec, "test")
	if err != nil {
		t.Fatal(err)
	}
	tp := services.Provider("test")
	_, span := tp.Tracer("test").Start(t.Context(), "exported")
	span.End()
	if err := tp.ForceFlush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := collector.Spans(); len(got) != 1 || got[0].Name != "exported" || got[0].Service != "test" || got[0].SpanID != span.SpanContext().SpanID().String() {
		t.Fatalf("collector got %+v after a flush, want the span", got)
	}
	if len(rec.List(10)) != 1 {
		t.Fatal("the exported span was not kept too")
	}
	if err := tp.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
}
