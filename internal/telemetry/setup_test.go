package telemetry_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/eventshop/eventshop/internal/telemetry"
)

// With an OTLP endpoint in the environment, spans are exported to it over
// OTLP/HTTP as well as kept.
func TestSpansAreExportedOverOTLP(t *testing.T) {
	got := make(chan string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Method + " " + r.URL.Path + " " + r.Header.Get("Content-Type")
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer srv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	rec := telemetry.NewRecent(10)
	tp, err := telemetry.NewProvider(t.Context(), "test", rec)
	if err != nil {
		t.Fatal(err)
	}
	_, span := tp.Tracer("test").Start(t.Context(), "exported")
	span.End()
	if err := tp.ForceFlush(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case req := <-got:
		if req != "POST /v1/traces application/x-protobuf" {
			t.Fatalf("collector got %q", req)
		}
	default:
		t.Fatal("nothing exported after a flush")
	}
	if len(rec.List(10)) != 1 {
		t.Fatal("the exported span was not kept too")
	}
	if err := tp.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
}
