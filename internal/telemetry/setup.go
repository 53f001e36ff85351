package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/time/rate"

	"github.com/eventshop/eventshop/internal/telemetry/identity"
	"github.com/eventshop/eventshop/internal/telemetry/otelenv"
)

var (
	installOnce sync.Once
	installed   *Recent
	metrics     http.Handler
	providers   *Services
	installErr  error
)

// Host is the service.name of what the local shop's process serves itself
// (its pages, console and bus administration) besides the services it hosts.
const Host = "shop"

// Local installs, once per process, the tracer providers of the services a
// local shop hosts (Services, each with its identity.Resource, and Host's)
// and a meter provider, as the process's global providers, with the W3C
// trace-context propagator, and returns the traces it keeps and the handler
// that serves the metrics in Prometheus text format. It records every trace
// but those of reads, of which it records ReadTraces (a caller's own
// sampling decision, sent in its traceparent, is followed), into the
// most recent (DefaultTraces of them, DefaultSpans spans in all); spans are
// kept as they end. When the
// environment configures an OTLP export (otelenv.SpanExporter), spans are
// exported in batches too, and Flush sends what is pending; an export that
// fails is logged on log and counted. A process that opens several shops
// (tests) shares one record and one set of metrics: trace ids tell the
// traces apart.
func Local(ctx context.Context, log *slog.Logger, services ...string) (*Recent, http.Handler, error) {
	installOnce.Do(func() {
		installed = NewRecent(DefaultTraces, DefaultSpans)
		var meters *sdkmetric.MeterProvider
		if meters, metrics, installErr = NewPrometheus(ctx); installErr != nil {
			return
		}
		otel.SetMeterProvider(meters)
		otel.SetErrorHandler(exportErrors(log))
		if providers, installErr = NewServices(ctx, installed, services...); installErr != nil {
			return
		}
		otel.SetTracerProvider(providers)
		otel.SetTextMapPropagator(propagation.TraceContext{})
	})
	return installed, metrics, installErr
}

// Flush exports the spans and log records not sent yet, if any.
func Flush(ctx context.Context) error {
	var errs []error
	if providers != nil {
		errs = append(errs, providers.ForceFlush(ctx))
	}
	if logs != nil {
		errs = append(errs, logs.ForceFlush(ctx))
	}
	return errors.Join(errs...)
}

// logs is the provider of the log records LogHandler exports, if any.
var logs *sdklog.LoggerProvider

// LogHandler is a handler that exports log records over OTLP, with the
// trace context of the context they are logged with, as the environment
// configures (otelenv.LogExporter), through OpenTelemetry's slog bridge; nil
// when it configures no export of logs. Flush sends what is pending.
func LogHandler(ctx context.Context) (slog.Handler, error) {
	exp, err := otelenv.LogExporter(ctx)
	if err != nil || exp == nil {
		return nil, err
	}
	res, err := identity.Resource(ctx, Host)
	if err != nil {
		return nil, err
	}
	logs = sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)))
	return otelslog.NewHandler(scope, otelslog.WithLoggerProvider(logs)), nil
}

// NewServices makes the providers Local installs: one per service and
// Host's, sharing their processors: recording into recent, and exporting
// as the environment says.
func NewServices(ctx context.Context, recent *Recent, services ...string) (*Services, error) {
	sampler, err := otelenv.Sampler(sdktrace.ParentBased(rootSampler{
		reads:  sdktrace.TraceIDRatioBased(ReadTraces),
		others: rate.NewLimiter(WriteTraces, WriteTraces),
	}))
	if err != nil {
		return nil, err
	}
	processors := []sdktrace.SpanProcessor{recent}
	exp, err := otelenv.SpanExporter(ctx)
	if err != nil {
		return nil, err
	}
	if exp != nil {
		processors = append(processors, sdktrace.NewBatchSpanProcessor(exp))
	}
	provider := func(service string) (*sdktrace.TracerProvider, error) {
		res, err := identity.Resource(ctx, service)
		if err != nil {
			return nil, err
		}
		opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res), sdktrace.WithSampler(sampler)}
		for _, p := range processors {
			opts = append(opts, sdktrace.WithSpanProcessor(p))
		}
		return sdktrace.NewTracerProvider(opts...), nil
	}
	host, err := provider(Host)
	if err != nil {
		return nil, err
	}
	each := map[string]*sdktrace.TracerProvider{}
	for _, s := range services {
		if each[s], err = provider(s); err != nil {
			return nil, err
		}
	}
	return newServices(host, each), nil
}

// exportErrors is the error handler of the OpenTelemetry SDK (an export
// that failed, most of all): a JSON log line on log, and a count in
// eventshop.telemetry.errors.
func exportErrors(log *slog.Logger) otel.ErrorHandler {
	errs, err := otel.Meter(scope).Int64Counter("eventshop.telemetry.errors", metric.WithUnit("{error}"),
		metric.WithDescription("Errors of the OpenTelemetry SDK: spans or log records not exported, most of all."))
	if err != nil {
		panic(err) // an instrument name that is valid, constant
	}
	return otel.ErrorHandlerFunc(func(err error) {
		log.Error("telemetry failed", "err", err)
		errs.Add(context.Background(), 1)
	})
}

// scope names the instruments of this package.
const scope = "github.com/eventshop/eventshop/internal/telemetry"

// ReadTraces is the share of reads (GET and HEAD requests that come with no
// trace of their own) the shop traces. Reads are most requests and none of
// the flows the console follows, and recording each one's span cost more
// than the read itself (BenchmarkGetProduct, docs/performance.md); their
// count and latency are in the metrics either way.
const ReadTraces = 0.01

// WriteTraces is how many traces a second, beyond reads, the shop starts
// at most: every write and every piece of work with no trace of its own
// while the shop is not busy, and no more than these when it is: tracing
// every checkout of a flash sale took much of the saga's CPU
// (docs/performance.md), the console keeps the last few hundred traces
// anyway (DefaultSpans), and the metrics count every request and message.
const WriteTraces = 20

// rootSampler samples the root spans of reads at a ratio, and the others
// while its limiter lets them.
type rootSampler struct {
	reads  sdktrace.Sampler
	others *rate.Limiter
}

func (s rootSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
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
	if s.others.Allow() {
		return sdktrace.AlwaysSample().ShouldSample(p)
	}
	return sdktrace.NeverSample().ShouldSample(p)
}

func (s rootSampler) Description() string {
	return fmt.Sprintf("RootSampler{reads:%s,others:%v/s}", s.reads.Description(), s.others.Limit())
}
