// Package otelenv reads what OpenTelemetry's standard environment variables
// configure, for the local shop and the Lambda functions alike: the span and
// log exporters, and the sampler (package identity reads the resource). A value
// it cannot honour is an error at start, naming the variable, never spans
// or logs lost unsaid.
//
// It selects the OTLP exporters itself rather than through contrib's
// autoexport, which links the Prometheus client and the stdout exporters
// into every binary that imports it; the selection is the switch in
// exporter.
package otelenv

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Configured reports whether the environment asks for an OTLP export of
// signal ("TRACES" or "LOGS"): an endpoint for it or for every signal, or
// its exporter named.
func Configured(signal string) bool {
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" ||
		os.Getenv("OTEL_EXPORTER_OTLP_"+signal+"_ENDPOINT") != "" ||
		os.Getenv("OTEL_"+signal+"_EXPORTER") != ""
}

// SpanExporter is the exporter of spans the environment configures, or nil
// when it configures none (no endpoint, or OTEL_TRACES_EXPORTER=none): OTLP
// over HTTP (http/protobuf, the default) or gRPC, as
// OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or OTEL_EXPORTER_OTLP_PROTOCOL says,
// with the endpoint, headers, timeout and compression the exporters read
// from the environment themselves.
func SpanExporter(ctx context.Context) (sdktrace.SpanExporter, error) {
	return exporter(ctx, "TRACES",
		func(ctx context.Context) (sdktrace.SpanExporter, error) { return otlptracehttp.New(ctx) },
		func(ctx context.Context) (sdktrace.SpanExporter, error) { return otlptracegrpc.New(ctx) })
}

// LogExporter is SpanExporter's counterpart for log records
// (OTEL_LOGS_EXPORTER, OTEL_EXPORTER_OTLP_LOGS_*).
func LogExporter(ctx context.Context) (sdklog.Exporter, error) {
	return exporter(ctx, "LOGS",
		func(ctx context.Context) (sdklog.Exporter, error) { return otlploghttp.New(ctx) },
		func(ctx context.Context) (sdklog.Exporter, error) { return otlploggrpc.New(ctx) })
}

// exporter makes signal's exporter over the protocol the environment
// chooses (Protocol); the zero E when it wants none.
func exporter[E any](ctx context.Context, signal string, overHTTP, overGRPC func(context.Context) (E, error)) (E, error) {
	var none E
	protocol, err := Protocol(signal)
	if err != nil || protocol == "" {
		return none, err
	}
	newExporter := overHTTP
	if protocol == "grpc" {
		newExporter = overGRPC
	}
	exp, err := newExporter(ctx)
	if err != nil {
		return none, fmt.Errorf("OTLP %s exporter: %w", strings.ToLower(signal), err)
	}
	return exp, nil
}

// Protocol is the OTLP protocol the environment chooses for signal
// ("TRACES" or "LOGS"): "grpc" or "http/protobuf"; "" when it wants no
// export of signal; an error naming the variable whose value the shop
// cannot honour.
func Protocol(signal string) (string, error) {
	name := "OTEL_" + signal + "_EXPORTER"
	switch v := os.Getenv(name); v {
	case "none":
		return "", nil
	case "":
		if !Configured(signal) {
			return "", nil
		}
	case "otlp":
	default:
		return "", fmt.Errorf("%s=%q: the shop exports otlp or none", name, v)
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_" + signal + "_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		switch v := os.Getenv(name); v {
		case "":
			continue
		case "grpc", "http/protobuf":
			return v, nil
		default:
			return "", fmt.Errorf("%s=%q: the shop speaks OTLP as grpc or http/protobuf", name, v)
		}
	}
	return "http/protobuf", nil
}

// Sampler is the sampler OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG
// name (those the SDK knows), or def when they name none.
func Sampler(def sdktrace.Sampler) (sdktrace.Sampler, error) {
	name := strings.ToLower(strings.TrimSpace(os.Getenv("OTEL_TRACES_SAMPLER")))
	arg := strings.TrimSpace(os.Getenv("OTEL_TRACES_SAMPLER_ARG"))
	ratio := func() (sdktrace.Sampler, error) {
		if arg == "" {
			return sdktrace.AlwaysSample(), nil
		}
		r, err := strconv.ParseFloat(arg, 64)
		if err != nil || r < 0 || r > 1 {
			return nil, fmt.Errorf("OTEL_TRACES_SAMPLER_ARG=%q: want a ratio from 0 to 1", arg)
		}
		return sdktrace.TraceIDRatioBased(r), nil
	}
	switch name {
	case "":
		return def, nil
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "traceidratio":
		return ratio()
	case "parentbased_traceidratio":
		s, err := ratio()
		if err != nil {
			return nil, err
		}
		return sdktrace.ParentBased(s), nil
	}
	return nil, fmt.Errorf("OTEL_TRACES_SAMPLER=%q: want always_on, always_off, traceidratio or their parentbased_ forms", name)
}
