//go:build !otlp

package lambdaenv

import (
	"context"
	"errors"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// ErrNoOTLP stops the init of a function given an OTLP endpoint that it
// cannot export to, rather than drop its spans unsaid.
var ErrNoOTLP = errors.New("an OTLP endpoint is set, but this binary was built without the otlp tag: build the functions with make lambdas OTLP_ENDPOINT=<url>")

func traceExporter(context.Context) (sdktrace.SpanExporter, error) { return nil, ErrNoOTLP }
