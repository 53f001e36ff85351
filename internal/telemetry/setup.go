package telemetry

import (
	"context"
	"fmt"
	"os"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
)

var (
	installOnce sync.Once
	installed   *Recent
	provider    *sdktrace.TracerProvider
	installErr  error
)

// Local installs, once per process, a tracer provider for service as the
// process's global provider, with the W3C trace-context propagator, and
// returns the traces it keeps. It records every trace (or follows the
// caller's sampling decision) into the DefaultTraces most recent; spans are
// kept as they end. When OTEL_EXPORTER_OTLP_ENDPOINT (or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, spans are also exported over
// OTLP/HTTP in batches, as the OpenTelemetry environment variables say;
// Flush sends what is pending. A process that opens several shops (tests)
// shares one record: trace ids tell them apart.
func Local(ctx context.Context, service string) (*Recent, error) {
	installOnce.Do(func() {
		installed = NewRecent(DefaultTraces)
		provider, installErr = NewProvider(ctx, service, installed)
		if installErr == nil {
			otel.SetTracerProvider(provider)
			otel.SetTextMapPropagator(propagation.TraceContext{})
		}
	})
	return installed, installErr
}

// Flush exports the spans the installed provider has not sent yet, if any.
func Flush(ctx context.Context) error {
	if provider == nil {
		return nil
	}
	return provider.ForceFlush(ctx)
}

// NewProvider makes the provider Local installs: recording into recent, and
// exporting over OTLP/HTTP when the environment names an endpoint.
func NewProvider(ctx context.Context, service string, recent *Recent) (*sdktrace.TracerProvider, error) {
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName(service))),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())),
		sdktrace.WithSpanProcessor(recent),
	}
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" {
		// The exporter reads the endpoint, headers and timeouts from the
		// environment itself.
		exp, err := otlptracehttp.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("OTLP trace exporter: %w", err)
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	return sdktrace.NewTracerProvider(opts...), nil
}
