package rest

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventshop/eventshop/internal/correlation"
)

// Middleware is what every request passes through first. It continues the
// caller's trace (W3C traceparent, read by the global propagator) in a server
// span from traces, records the request's duration by route, method and
// status in the http.server.request.duration histogram of meters, gives
// the request a correlation id (kept from the request header when well
// formed), sets X-Content-Type-Options: nosniff on every answer and
// Cache-Control: no-store on the answer to a request with credentials,
// recovers panics into a 500 and logs one line per request.
//
// It does what otelhttp's handler did for the shop, at a fraction of its cost
// per request (BenchmarkGetProduct): otelhttp builds every span attribute for
// the sampler and a fresh attribute set for its metrics on each request,
// where a read the sampler drops needs neither, and a route's metric
// attributes are the same set every time.
func Middleware(log *slog.Logger, traces trace.TracerProvider, meters metric.MeterProvider, next http.Handler) http.Handler {
	o := newObserver(traces, meters)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		method := methodOf(r.Method)
		ctx, span := o.tracer.Start(o.propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header)), method, starts[method]...)
		if span.IsRecording() {
			span.SetAttributes(requestAttributes(r, method)...)
		}
		id := correlation.Sanitize(r.Header.Get(correlation.Header))
		ctx = correlation.With(ctx, id)
		h := w.Header()
		h.Set(correlation.Header, id)
		// Every answer is what its Content-Type says; an answer to a request
		// with credentials may name and address someone: no cache keeps it.
		h.Set("X-Content-Type-Options", "nosniff")
		if r.Header.Get("Authorization") != "" {
			h.Set("Cache-Control", "no-store")
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			p := recover()
			if p != nil && p != http.ErrAbortHandler {
				log.ErrorContext(ctx, "panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p))
				if !rec.wrote {
					WriteProblem(rec, http.StatusInternalServerError, "internal error")
				}
			}
			o.end(ctx, span, rec, method, start)
			if p == http.ErrAbortHandler {
				panic(p)
			}
			// The access log: answered requests at debug level (a line per read
			// was a measurable part of its cost), refused ones at info, failed
			// ones at error.
			level := slog.LevelDebug
			switch {
			case rec.status >= 500:
				level = slog.LevelError
			case rec.status >= 400:
				level = slog.LevelInfo
			}
			if log.Enabled(ctx, level) {
				log.Log(ctx, level, "request", "method", r.Method, "path", r.URL.Path, "status", rec.status,
					"duration_ms", float64(time.Since(start).Microseconds())/1000)
			}
		}()
		next.ServeHTTP(rec, r.WithContext(ctx))
	})
}

// observer holds one Middleware's tracer and duration histogram, and the
// histogram's attribute sets, made once per route, method and status.
type observer struct {
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
	duration   metric.Float64Histogram

	mu   sync.RWMutex
	sets map[requestKind]metric.MeasurementOption
}

type requestKind struct {
	route, method string
	status        int
}

// scope names this package's spans and instruments.
const scope = "github.com/eventshop/eventshop/internal/rest"

func newObserver(traces trace.TracerProvider, meters metric.MeterProvider) *observer {
	duration, err := meters.Meter(scope).Float64Histogram("http.server.request.duration",
		metric.WithUnit("s"), metric.WithDescription("Duration of HTTP server requests."))
	if err != nil {
		otel.Handle(err) // the histogram is then a no-op one
	}
	return &observer{
		tracer:     traces.Tracer(scope),
		propagator: otel.GetTextMapPropagator(),
		duration:   duration,
		sets:       map[requestKind]metric.MeasurementOption{},
	}
}

// end ends the request's span and records its duration.
func (o *observer) end(ctx context.Context, span trace.Span, rec *statusRecorder, method string, start time.Time) {
	if span.IsRecording() {
		span.SetAttributes(semconv.HTTPResponseStatusCode(rec.status))
		if rec.status >= 500 {
			span.SetStatus(codes.Error, "")
		}
	}
	span.End()
	o.duration.Record(ctx, time.Since(start).Seconds(), o.attributes(requestKind{rec.route, method, rec.status}))
}

// attributes returns k's attribute set. There are few: routes are the mux's
// patterns, methods the standard ones (methodOf), statuses the handlers'.
func (o *observer) attributes(k requestKind) metric.MeasurementOption {
	o.mu.RLock()
	set, ok := o.sets[k]
	o.mu.RUnlock()
	if ok {
		return set
	}
	kv := []attribute.KeyValue{semconv.HTTPRequestMethodKey.String(k.method), semconv.HTTPResponseStatusCode(k.status)}
	if k.route != "" {
		kv = append(kv, semconv.HTTPRoute(k.route))
	}
	if k.status >= 500 {
		kv = append(kv, semconv.ErrorTypeKey.String(strconv.Itoa(k.status)))
	}
	set = metric.WithAttributeSet(attribute.NewSet(kv...))
	o.mu.Lock()
	o.sets[k] = set
	o.mu.Unlock()
	return set
}

// starts are the server span's start options by method: its kind, and the
// method, all the sampler reads (telemetry.rootSampler); made once.
var starts = func() map[string][]trace.SpanStartOption {
	m := map[string][]trace.SpanStartOption{}
	for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace, "_OTHER"} {
		m[method] = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(semconv.HTTPRequestMethodKey.String(method))}
	}
	return m
}()

// methodOf is method as the semantic conventions name it: a method not in
// HTTP's registry is "_OTHER" (a client must not grow the metrics).
func methodOf(method string) string {
	if _, ok := starts[method]; ok {
		return method
	}
	return "_OTHER"
}

// requestAttributes are a recorded span's attributes besides its method, the
// request's as methodOf names it.
func requestAttributes(r *http.Request, method string) []attribute.KeyValue {
	scheme := schemeOf(r)
	kv := []attribute.KeyValue{semconv.URLPath(r.URL.Path), semconv.URLScheme(scheme)}
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil { // no port: the scheme's
		host, port = r.Host, map[string]string{"http": "80", "https": "443"}[scheme]
	}
	if host != "" {
		kv = append(kv, semconv.ServerAddress(host))
		if p, err := strconv.Atoi(port); err == nil {
			kv = append(kv, semconv.ServerPort(p))
		}
	}
	if ua := r.UserAgent(); ua != "" {
		kv = append(kv, semconv.UserAgentOriginal(ua))
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		kv = append(kv, semconv.ClientAddress(host))
	}
	if r.Method != method {
		kv = append(kv, semconv.HTTPRequestMethodOriginal(r.Method))
	}
	return kv
}

// schemeOf is the scheme the client used: https when the request came over
// TLS or through a proxy that says so (API Gateway, CloudFront), else http.
func schemeOf(r *http.Request) string {
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		return "https"
	}
	return "http"
}

// statusRecorder keeps the status a request was answered with and the route
// it matched (nameRoute).
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
	route  string
}

// recorderOf finds the request's statusRecorder under the writers that wrap it.
func recorderOf(w http.ResponseWriter) *statusRecorder {
	for {
		switch v := w.(type) {
		case *statusRecorder:
			return v
		case interface{ Unwrap() http.ResponseWriter }:
			w = v.Unwrap()
		default:
			return nil
		}
	}
}

// Unwrap lets http.ResponseController reach the writer's Flush and deadlines
// (the console's event stream needs both).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}
