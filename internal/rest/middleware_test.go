package rest

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

func TestMiddlewareTracesAndMeasuresByRoute(t *testing.T) {
	otel.SetTextMapPropagator(propagation.TraceContext{})
	spans := tracetest.NewSpanRecorder()
	reader := sdkmetric.NewManualReader()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /product/{id}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("POST /fail", func(w http.ResponseWriter, _ *http.Request) { WriteProblem(w, http.StatusServiceUnavailable, "down") })
	h := Middleware(slog.New(slog.DiscardHandler),
		sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)),
		sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)), ProblemsFor(mux))

	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	for range 2 {
		r := httptest.NewRequest("GET", "/product/42", nil)
		r.Header.Set("Traceparent", parent)
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/fail", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("BREW", "/product/42", nil))

	ended := spans.Ended()
	if len(ended) != 4 {
		t.Fatalf("%d spans, want one per request", len(ended))
	}
	read := ended[0]
	if read.Name() != "GET /product/{id}" || read.SpanKind() != trace.SpanKindServer ||
		read.Parent().TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || read.Parent().SpanID().String() != "00f067aa0ba902b7" {
		t.Fatalf("read span %q kind %v parent %v: want the route's name, continuing the caller's trace", read.Name(), read.SpanKind(), read.Parent())
	}
	if got := attributes(read.Attributes()); got["http.route"] != "/product/{id}" || got["http.response.status_code"] != "200" ||
		got["url.path"] != "/product/42" || got["http.request.method"] != "GET" {
		t.Fatalf("read span attributes %v", got)
	}
	if failed := ended[2]; failed.Status().Code != codes.Error {
		t.Fatalf("a 503's span status = %v, want an error", failed.Status())
	}
	if other := attributes(ended[3].Attributes()); other["http.request.method"] != "_OTHER" || other["http.request.method_original"] != "BREW" {
		t.Fatalf("an unknown method's span attributes %v", other)
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	counts := map[attribute.Distinct]uint64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "http.server.request.duration" || m.Unit != "s" {
				t.Fatalf("metric %s in %q", m.Name, m.Unit)
			}
			for _, p := range m.Data.(metricdata.Histogram[float64]).DataPoints {
				counts[p.Attributes.Equivalent()] = p.Count
			}
		}
	}
	series := func(kv ...attribute.KeyValue) attribute.Distinct { s := attribute.NewSet(kv...); return s.Equivalent() }
	want := map[attribute.Distinct]uint64{
		series(semconv.HTTPRequestMethodGet, semconv.HTTPRoute("/product/{id}"), semconv.HTTPResponseStatusCode(200)):                              2,
		series(semconv.HTTPRequestMethodPost, semconv.HTTPRoute("/fail"), semconv.HTTPResponseStatusCode(503), semconv.ErrorTypeKey.String("503")): 1,
		// Unmatched: no route; an unknown method does not make a series of its own.
		series(semconv.HTTPRequestMethodOther, semconv.HTTPResponseStatusCode(405)): 1,
	}
	if len(counts) != len(want) {
		t.Fatalf("%d series, want %d", len(counts), len(want))
	}
	for set, n := range want {
		if counts[set] != n {
			t.Errorf("a series counted %d, want %d", counts[set], n)
		}
	}
}

func attributes(kv []attribute.KeyValue) map[string]string {
	m := map[string]string{}
	for _, a := range kv {
		m[string(a.Key)] = a.Value.String()
	}
	return m
}
