//go:build otlp

package lambdaenv

import (
	"context"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// traceExporter exports spans over OTLP/HTTP to the endpoint, with the
// headers and timeouts, the OpenTelemetry environment variables give.
func traceExporter(ctx context.Context) (sdktrace.SpanExporter, error) {
	return otlptracehttp.New(ctx)
}
