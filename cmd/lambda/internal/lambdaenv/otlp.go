//go:build otlp

package lambdaenv

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	//lint:ignore SA1019 deprecated for the SDK's own tracing, whose OpenTelemetry adapter (smithy-go's smithyoteltracing module) the module proxy here does not serve; it works with the pinned SDK
	"go.opentelemetry.io/contrib/instrumentation/github.com/aws/aws-sdk-go-v2/otelaws"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
)

// exportSpans installs a tracer provider for function that exports over
// OTLP/HTTP to the endpoint, with the headers and timeouts, the OpenTelemetry
// environment variables give, and returns what sends the spans recorded so far.
func exportSpans(ctx context.Context, function string) (func(context.Context) error, error) {
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, err
	}
	res := resource.NewSchemaless(semconv.ServiceName(function))
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithBatcher(exp),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())))
	otel.SetTracerProvider(tp)
	return tp.ForceFlush, nil
}

// instrumentAWS makes every call to DynamoDB or EventBridge a span of the
// trace it serves.
func instrumentAWS(cfg *aws.Config) { otelaws.AppendMiddlewares(&cfg.APIOptions) }
