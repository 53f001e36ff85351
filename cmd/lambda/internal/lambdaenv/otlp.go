//go:build otlp

package lambdaenv

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	//lint:ignore SA1019 deprecated for the SDK's own tracing, whose OpenTelemetry adapter (smithy-go's smithyoteltracing module) the module proxy here does not serve; it works with the pinned SDK
	"go.opentelemetry.io/contrib/instrumentation/github.com/aws/aws-sdk-go-v2/otelaws"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/eventshop/eventshop/internal/awsenv"
	"github.com/eventshop/eventshop/internal/telemetry/identity"
	"github.com/eventshop/eventshop/internal/telemetry/otelenv"
)

// exportSpans installs a tracer provider for fn, its service's
// resource (identity.Resource, with the function's cloud and FaaS
// attributes), that exports as the OpenTelemetry environment variables say
// (otelenv: OTLP over HTTP or gRPC, their endpoint, headers and sampler),
// and returns what sends the spans recorded so far.
func exportSpans(ctx context.Context, fn awsenv.Function) (func(context.Context) error, error) {
	exp, err := otelenv.SpanExporter(ctx)
	if err != nil || exp == nil {
		return nil, err
	}
	sampler, err := otelenv.Sampler(sdktrace.ParentBased(sdktrace.AlwaysSample()))
	if err != nil {
		return nil, err
	}
	res, err := identity.Resource(ctx, fn.Service, ResourceAttributes(fn.Name)...)
	if err != nil {
		return nil, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithBatcher(exp), sdktrace.WithSampler(sampler))
	otel.SetTracerProvider(tp)
	return tp.ForceFlush, nil
}

// instrumentAWS makes every call to DynamoDB or EventBridge a span of the
// trace it serves.
func instrumentAWS(cfg *aws.Config) { otelaws.AppendMiddlewares(&cfg.APIOptions) }
