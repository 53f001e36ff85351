package lambdaenv

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"

	"github.com/eventshop/eventshop/internal/awsenv"
	"github.com/eventshop/eventshop/internal/canary"
)

// afterInvoke runs after each invocation, before its answer: what sends the
// invocation's spans and metrics, since Lambda freezes the process between
// invocations.
var afterInvoke []func(context.Context)

// AfterInvoke adds f to what runs after each invocation; call it at init.
func AfterInvoke(f func(context.Context)) { afterInvoke = append(afterInvoke, f) }

// observe installs fn's tracing: the W3C trace-context propagator and,
// only when the environment asks for an OTLP export (an endpoint, or
// OTEL_TRACES_EXPORTER; the stack sets them when deployed with one), a
// tracer provider that exports spans as it says, sent before each
// invocation returns. Without one, spans cost nothing: the API's no-op
// provider records none, and trace context still passes through. The
// tracing SDK, the exporters and the AWS SDK's instrumentation are linked
// only into binaries built with the otlp tag (make lambdas
// OTLP_ENDPOINT=...), which adds megabytes and init time to each. Metrics
// are package lambdametrics', for the functions that record some.
func observe(ctx context.Context, fn awsenv.Function, log *slog.Logger) error {
	otel.SetTextMapPropagator(propagation.TraceContext{})
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" &&
		os.Getenv("OTEL_TRACES_EXPORTER") == "" {
		return nil
	}
	flushSpans, err := exportSpans(ctx, fn)
	if err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	if flushSpans == nil { // OTEL_TRACES_EXPORTER=none
		return nil
	}
	AfterInvoke(func(ctx context.Context) {
		if err := flushSpans(ctx); err != nil {
			log.WarnContext(ctx, "export spans", "err", err)
		}
	})
	return nil
}

// ResourceAttributes are what the Lambda runtime tells of function's
// instance, for its telemetry's resource: the cloud, the region, the
// function's name, version, memory and instance (its log stream), as the
// semantic conventions for FaaS name them.
func ResourceAttributes(function string) []attribute.KeyValue {
	kv := []attribute.KeyValue{semconv.CloudProviderAWS, semconv.CloudPlatformAWSLambda, semconv.FaaSName(cmp.Or(os.Getenv("AWS_LAMBDA_FUNCTION_NAME"), function))}
	for env, attr := range map[string]attribute.Key{
		"AWS_REGION":                  semconv.CloudRegionKey,
		"AWS_LAMBDA_FUNCTION_VERSION": semconv.FaaSVersionKey,
		"AWS_LAMBDA_LOG_STREAM_NAME":  semconv.FaaSInstanceKey,
	} {
		if v := os.Getenv(env); v != "" {
			kv = append(kv, attr.String(v))
		}
	}
	if mb, err := strconv.Atoi(os.Getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")); err == nil {
		kv = append(kv, semconv.FaaSMaxMemory(mb<<20))
	}
	return kv
}

// Start runs handler as the function's handler, sending the invocation's
// metrics and spans before each answer, and printing what it handled and
// failed as the running version's canary line (package canary), which the
// alarms of a deployment watch.
func Start[In, Out any](handler func(context.Context, In) (Out, error)) {
	lambda.Start(func(ctx context.Context, in In) (Out, error) {
		out, err := handler(ctx, in)
		for _, f := range afterInvoke {
			f(ctx)
		}
		// Standard output is also where a failure to write would be logged.
		_ = canary.Line(os.Stdout, lambdacontext.FunctionName, lambdacontext.FunctionVersion, canary.Of(in, out, err), time.Now())
		return out, err
	})
}
