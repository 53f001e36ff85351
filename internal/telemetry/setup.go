package telemetry

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

var (
	installOnce sync.Once
	installed   *Recent
	metrics     http.Handler
	provider    *sdktrace.TracerProvider
	installErr  error
)

// Local installs, once per process, a tracer provider and a meter provider
// for service as the process's global providers, with the W3C trace-context
// propagator, and returns the traces it keeps and the handler that serves
// the metrics in Prometheus text format. It records every trace but those of
// reads, of which it records ReadTraces (a caller's own sampling decision,
// sent in its traceparent, is followed), into the DefaultTraces most recent;
// spans are kept as they end. When OTEL_EXPORTER_OTLP_ENDPOINT (or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, spans are also exported over
// OTLP/HTTP in batches, as the OpenTelemetry environment variables say;
// Flush sends what is pending. A process that opens several shops (tests)
// shares one record and one set of metrics: trace ids tell the traces apart.
func Local(ctx context.Context, service string) (*Recent, http.Handler, error) {
	installOnce.Do(func() {
		installed = NewRecent(DefaultTraces)
		provider, installErr = NewProvider(ctx, service, installed)
		if installErr != nil {
			return
		}
		var meters *sdkmetric.MeterProvider
		if meters, metrics, installErr = NewPrometheus(service); installErr != nil {
			return
		}
		otel.SetTracerProvider(provider)
		otel.SetMeterProvider(meters)
		otel.SetTextMapPropagator(propagation.TraceContext{})
	})
	return installed, metrics, installErr
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
		sdktrace.WithSampler(sdktrace.ParentBased(readSampler{reads: sdktrace.TraceIDRatioBased(ReadTraces)})),
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

// ReadTraces is the share of reads (GET and HEAD requests that come with no
// trace of their own) the shop traces. Reads are most requests and none of
// the flows the console follows, and recording each one's span cost more
// than the read itself (BenchmarkGetProduct: 44 µs traced, 19 µs untraced);
// their count and latency are in the metrics either way.
const ReadTraces = 0.01

// readSampler samples the server spans of reads at a ratio, everything else always.
type readSampler struct{ reads sdktrace.Sampler }

func (s readSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	if p.Kind == trace.SpanKindServer {
		for _, kv := range p.Attributes {
			if kv.Key == semconv.HTTPRequestMethodKey {
				if m := kv.Value.AsString(); m == http.MethodGet || m == http.MethodHead {
					return s.reads.ShouldSample(p)
				}
				break
			}
		}
	}
	return sdktrace.AlwaysSample().ShouldSample(p)
}

func (s readSampler) Description() string {
	return "ReadSampler{reads:" + s.reads.Description() + "}"
}
