package lambdaenv

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
)

// afterInvoke runs after each invocation, before its answer: what sends the
// invocation's spans and metrics, since Lambda freezes the process between
// invocations.
var afterInvoke []func(context.Context)

// AfterInvoke adds f to what runs after each invocation; call it at init.
func AfterInvoke(f func(context.Context)) { afterInvoke = append(afterInvoke, f) }

// observe installs function's tracing: the W3C trace-context propagator and,
// only when the environment names an OTLP endpoint
// (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, which
// the stack sets when deployed with one), a tracer provider that exports
// spans over OTLP/HTTP, sent before each invocation returns. Without one,
// spans cost nothing: the API's no-op provider records none, and trace
// context still passes through. The tracing SDK, the exporter and the AWS
// SDK's instrumentation are linked only into binaries built with the otlp
// tag (make lambdas OTLP_ENDPOINT=...): they add 9 MB and about 4 ms of init
// to each. Metrics are package lambdametrics', for the functions that
// record some.
func observe(ctx context.Context, function string, log *slog.Logger) error {
	otel.SetTextMapPropagator(propagation.TraceContext{})
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return nil
	}
	flushSpans, err := exportSpans(ctx, function)
	if err != nil {
		return fmt.Errorf("OTLP trace exporter: %w", err)
	}
	AfterInvoke(func(ctx context.Context) {
		if err := flushSpans(ctx); err != nil {
			log.WarnContext(ctx, "export spans", "err", err)
		}
	})
	return nil
}

// Start runs handler as the function's handler, sending the invocation's
// metrics and spans before each answer.
func Start[In, Out any](handler func(context.Context, In) (Out, error)) {
	lambda.Start(func(ctx context.Context, in In) (Out, error) {
		out, err := handler(ctx, in)
		for _, f := range afterInvoke {
			f(ctx)
		}
		return out, err
	})
}
