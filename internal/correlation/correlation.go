// Package correlation carries a request's correlation id through contexts, events
// and log lines, so that one checkout can be followed from HTTP to the order.
package correlation

import (
	"context"
	"log/slog"
	"regexp"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/trace"
)

type key struct{}

// Header is the HTTP header that carries the id in and out.
const Header = "X-Correlation-Id"

var valid = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)

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
	if valid.MatchString(id) {
		return id
	}
	return uuid.NewString()
}

// LogHandler adds the context's correlation id, and the trace and span ids
// of its span (trace_id, span_id) when it has one, to every record logged
// with a context. The correlation id stays its own: a trace id is made by
// the tracer, a correlation id may come from the caller.
type LogHandler struct{ slog.Handler }

// Handle implements slog.Handler.
func (h LogHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := ID(ctx); id != "" {
		r.AddAttrs(slog.String("correlationId", id))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
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
