// Package telemetry sets up OpenTelemetry tracing for the local shop and
// keeps its most recent traces in memory, for the console to read.
package telemetry

import (
	"context"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// Bounds on what Recent keeps: whole traces, the oldest dropped first, up
// to DefaultTraces traces and DefaultSpans spans in all, and spans per
// trace (a runaway trace cannot take all the memory). The span budget
// bounds the heap the traces take whatever their size, and still keeps the
// last few hundred checkouts' whole sagas (docs/performance.md has what a
// kept span costs).
const (
	DefaultTraces    = 1000
	DefaultSpans     = 10_000
	MaxSpansPerTrace = 1000
)

// Span is one finished span as the console shows it.
type Span struct {
	SpanID       string            `json:"spanId"`
	ParentSpanID string            `json:"parentSpanId,omitempty"`
	Name         string            `json:"name"`
	Service      string            `json:"service"`
	Kind         string            `json:"kind"`
	Start        time.Time         `json:"start"`
	End          time.Time         `json:"end"`
	Status       string            `json:"status"`
	Attributes   map[string]string `json:"attributes,omitempty"`
}

// Trace is a trace's finished spans, in the order they ended.
type Trace struct {
	TraceID string `json:"traceId"`
	Spans   []Span `json:"spans"`
	// Dropped counts spans not kept beyond MaxSpansPerTrace (or, for a
	// trace that alone holds DefaultSpans, beyond those).
	Dropped int `json:"dropped,omitempty"`
}

// Summary is a trace in a list: its first span's name and time, its span
// count, and whether any span failed.
type Summary struct {
	TraceID string    `json:"traceId"`
	Name    string    `json:"name"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Spans   int       `json:"spans"`
	Error   bool      `json:"error"`
}

// Recent is a span processor that keeps the last traces in memory. It keeps
// the spans as the SDK hands them over (ended, never to change) and turns
// them into Spans only when the console reads them.
type Recent struct {
	max, maxSpans int

	mu     sync.Mutex
	traces map[trace.TraceID]*kept
	order  []trace.TraceID // oldest first
	spans  int             // kept in all
}

// kept is one trace's ended spans, in the order they ended.
type kept struct {
	spans   []sdktrace.ReadOnlySpan
	dropped int
}

func (k *kept) trace(id trace.TraceID) Trace {
	t := Trace{TraceID: id.String(), Spans: make([]Span, len(k.spans)), Dropped: k.dropped}
	for i, s := range k.spans {
		t.Spans[i] = convert(s)
	}
	return t
}

var _ sdktrace.SpanProcessor = (*Recent)(nil)

// NewRecent keeps the last traces, at most max of them and maxSpans spans
// in all (DefaultTraces and DefaultSpans when ≤ 0).
func NewRecent(max, maxSpans int) *Recent {
	if max <= 0 {
		max = DefaultTraces
	}
	if maxSpans <= 0 {
		maxSpans = DefaultSpans
	}
	return &Recent{max: max, maxSpans: maxSpans, traces: make(map[trace.TraceID]*kept)}
}

// OnStart implements sdktrace.SpanProcessor.
func (*Recent) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd implements sdktrace.SpanProcessor: it keeps the span.
func (r *Recent) OnEnd(s sdktrace.ReadOnlySpan) {
	id := s.SpanContext().TraceID()
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.traces[id]
	if !ok {
		if len(r.order) == r.max {
			r.dropOldest()
		}
		t = &kept{}
		r.traces[id] = t
		r.order = append(r.order, id)
	}
	for r.spans >= r.maxSpans && r.order[0] != id {
		r.dropOldest()
	}
	if len(t.spans) == MaxSpansPerTrace || r.spans >= r.maxSpans {
		t.dropped++
		return
	}
	t.spans = append(t.spans, s)
	r.spans++
}

// dropOldest forgets the oldest trace.
func (r *Recent) dropOldest() {
	r.spans -= len(r.traces[r.order[0]].spans)
	delete(r.traces, r.order[0])
	r.order = r.order[1:]
}

// Shutdown implements sdktrace.SpanProcessor.
func (*Recent) Shutdown(context.Context) error { return nil }

// ForceFlush implements sdktrace.SpanProcessor.
func (*Recent) ForceFlush(context.Context) error { return nil }

// List returns up to limit traces, the newest first.
func (r *Recent) List(limit int) []Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Summary, 0, min(limit, len(r.order)))
	for _, id := range slices.Backward(r.order) {
		if len(out) == limit {
			break
		}
		out = append(out, summarize(id, r.traces[id]))
	}
	return out
}

// Get returns the trace with the given id, if it is still kept.
func (r *Recent) Get(id trace.TraceID) (Trace, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.traces[id]
	if !ok {
		return Trace{}, false
	}
	return t.trace(id), true
}

func summarize(id trace.TraceID, t *kept) Summary {
	s := Summary{TraceID: id.String(), Spans: len(t.spans) + t.dropped}
	for i, sp := range t.spans {
		if start := sp.StartTime().UTC(); i == 0 || start.Before(s.Start) {
			s.Start, s.Name = start, sp.Name()
		}
		if end := sp.EndTime().UTC(); end.After(s.End) {
			s.End = end
		}
		s.Error = s.Error || sp.Status().Code == codes.Error
	}
	return s
}

func convert(s sdktrace.ReadOnlySpan) Span {
	out := Span{
		SpanID: s.SpanContext().SpanID().String(),
		Name:   s.Name(),
		Kind:   s.SpanKind().String(),
		Start:  s.StartTime().UTC(),
		End:    s.EndTime().UTC(),
		Status: "unset",
	}
	if p := s.Parent(); p.SpanID().IsValid() {
		out.ParentSpanID = p.SpanID().String()
	}
	switch s.Status().Code {
	case codes.Error:
		out.Status = "error"
	case codes.Ok:
		out.Status = "ok"
	}
	if v, ok := s.Resource().Set().Value(semconv.ServiceNameKey); ok {
		out.Service = v.AsString()
	}
	if attrs := s.Attributes(); len(attrs) > 0 {
		out.Attributes = make(map[string]string, len(attrs))
		for _, kv := range attrs {
			out.Attributes[string(kv.Key)] = kv.Value.String()
		}
	}
	return out
}
