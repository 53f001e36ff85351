package telemetry

import (
	"context"

	"github.com/eventshop/eventshop/internal/correlation/service"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
)

// Services is the tracer provider of a process that hosts several services
// (the local shop hosts five): one SDK provider per service, each with the
// service's own resource, as OpenTelemetry's SDK has it, behind one
// trace.TracerProvider for the code that makes spans, so that a span is its
// service's whoever starts it. A span belongs to the service its context
// names (service.With), else to its parent span's, else to the host's.
type Services struct {
	embedded.TracerProvider
	host       *sdktrace.TracerProvider
	byName     map[string]*sdktrace.TracerProvider
	byProvider map[*sdktrace.TracerProvider]string
}

// newServices routes spans to providers, one per service name, and to host
// for spans of no service.
func newServices(host *sdktrace.TracerProvider, providers map[string]*sdktrace.TracerProvider) *Services {
	s := &Services{host: host, byName: providers, byProvider: map[*sdktrace.TracerProvider]string{}}
	for name, p := range providers {
		s.byProvider[p] = name
	}
	return s
}

// Provider is service's provider, or the host's for a service it does not know.
func (s *Services) Provider(service string) *sdktrace.TracerProvider {
	if p, ok := s.byName[service]; ok {
		return p
	}
	return s.host
}

// ForceFlush exports what every provider holds (they share their processors).
func (s *Services) ForceFlush(ctx context.Context) error { return s.host.ForceFlush(ctx) }

// Tracer implements trace.TracerProvider: a tracer of each service's
// provider, chosen at each span's start.
func (s *Services) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	t := &routedTracer{s: s, host: s.host.Tracer(name, opts...), byName: map[string]trace.Tracer{}}
	for service, p := range s.byName {
		t.byName[service] = p.Tracer(name, opts...)
	}
	return t
}

type routedTracer struct {
	embedded.Tracer
	s      *Services
	host   trace.Tracer
	byName map[string]trace.Tracer
}

func (t *routedTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	owner := service.From(ctx)
	if owner == "" {
		if p, isSDK := trace.SpanFromContext(ctx).TracerProvider().(*sdktrace.TracerProvider); isSDK {
			owner = t.s.byProvider[p]
		}
	}
	if tr, ok := t.byName[owner]; ok {
		return tr.Start(ctx, name, opts...)
	}
	return t.host.Start(ctx, name, opts...)
}
