package telemetry

import (
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
)

var (
	installOnce sync.Once
	installed   *Recent
)

// Local installs, once per process, a tracer provider for service that
// records every trace (or follows the caller's sampling decision) into the
// DefaultTraces most recent, as the process's global provider, with the W3C
// trace-context propagator; it returns those recent traces. Spans are kept
// as they end, with no batching, so there is nothing to flush on exit. A
// process that opens several shops (tests) shares one record: trace ids
// tell them apart.
func Local(service string) *Recent {
	installOnce.Do(func() {
		installed = NewRecent(DefaultTraces)
		otel.SetTracerProvider(sdktrace.NewTracerProvider(
			sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName(service))),
			sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())),
			sdktrace.WithSpanProcessor(installed),
		))
		otel.SetTextMapPropagator(propagation.TraceContext{})
	})
	return installed
}
