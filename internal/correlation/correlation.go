// Package correlation carries a request's correlation id through contexts, events
// and log lines, so that one checkout can be followed from HTTP to the order.
package correlation

import (
	"context"
	"log/slog"

	"github.com/eventshop/eventshop/internal/correlation/service"
	"github.com/google/uuid"
	"go.opentelemetry.io/otel/trace"
)

type key struct{}

// Header is the HTTP header that carries the id in and out.
const Header = "X-Correlation-Id"

// valid reports whether id is 1 to 64 of A-Z a-z 0-9 _ . : - (a loop, not a
// regular expression: compiling one at init cost every Lambda cold start).
func valid(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// With returns ctx carrying id.
func With(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, key{}, id)
}

// ID returns the id ctx carries, or "".
func ID(ctx context.Context) string {
	id, _ := ctx.Value(key{}).(string)
	return id
}

// Sanitize returns id when it is a well-formed id and a new random one otherwise.
func Sanitize(id string) string {
	if valid(id) {
		return id
	}
	return uuid.NewString()
}

// LogHandler adds to every record logged with a context: the service whose
// work it is (service.From), the context's correlation id, and the trace
// and span ids of its span (trace_id, span_id) when it has one, with
// trace_sampled saying whether that trace is recorded: a line does not
// point at a trace that was never exported without saying so. The
// correlation id stays its own: a trace id is made by the tracer, a
// correlation id may come from the caller.
type LogHandler struct{ slog.Handler }

// Handle implements slog.Handler.
func (h LogHandler) Handle(ctx context.Context, r slog.Record) error {
	if s := service.From(ctx); s != "" {
		r.AddAttrs(slog.String("service", s))
	}
	if id := ID(ctx); id != "" {
		r.AddAttrs(slog.String("correlationId", id))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()),
			slog.Bool("trace_sampled", sc.IsSampled()))
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h LogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return LogHandler{h.Handler.WithAttrs(attrs)}
}

// WithGroup implements slog.Handler.
func (h LogHandler) WithGroup(name string) slog.Handler {
	return LogHandler{h.Handler.WithGroup(name)}
}
