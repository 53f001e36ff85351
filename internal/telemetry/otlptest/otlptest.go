// Package otlptest is a fake OTLP collector for tests: it receives what
// OpenTelemetry exporters send, over OTLP/HTTP (protobuf, at URL +
// "/v1/traces" and "/v1/logs") and over OTLP/gRPC (at GRPC), and keeps the
// spans and log records.
package otlptest

import (
	"compress/gzip"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// Span is what a test looks at in an exported span; ids are lowercase hex,
// ParentSpanID is empty for a root, attribute values are as strconv
// formats them.
type Span struct {
	TraceID, SpanID, ParentSpanID, Name, Service string
	Kind                                         string // "server", "client", "producer", "consumer" or "internal"
	Start, End                                   time.Time
	Error                                        bool
	Resource, Attributes                         map[string]string
}

// Log is an exported log record.
type Log struct {
	TraceID, SpanID, Body, Severity, Service string
	Attributes                               map[string]string
}

// Collector receives spans and logs.
type Collector struct {
	URL  string // OTLP/HTTP: URL + "/v1/traces"
	GRPC string // OTLP/gRPC: "http://" + host:port

	mu    sync.Mutex
	spans []Span
	logs  []Log
}

// Start runs a collector until the test ends.
func Start(t testing.TB) *Collector {
	c := &Collector{}
	srv := httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(srv.Close)
	c.URL = srv.URL
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(g, traceService{c: c})
	collogspb.RegisterLogsServiceServer(g, logsService{c: c})
	go func() { _ = g.Serve(ln) }()
	t.Cleanup(g.Stop)
	c.GRPC = "http://" + ln.Addr().String()
	return c
}

// Spans returns every span received so far.
func (c *Collector) Spans() []Span {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Span(nil), c.spans...)
}

// Logs returns every log record received so far.
func (c *Collector) Logs() []Log {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Log(nil), c.logs...)
}

func (c *Collector) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want POST, application/x-protobuf", http.StatusBadRequest)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = gz
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var out proto.Message
	switch r.URL.Path {
	case "/v1/traces":
		var req coltracepb.ExportTraceServiceRequest
		if err = proto.Unmarshal(raw, &req); err == nil {
			c.addSpans(&req)
		}
		out = &coltracepb.ExportTraceServiceResponse{}
	case "/v1/logs":
		var req collogspb.ExportLogsServiceRequest
		if err = proto.Unmarshal(raw, &req); err == nil {
			c.addLogs(&req)
		}
		out = &collogspb.ExportLogsServiceResponse{}
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b, _ := proto.Marshal(out)
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(b)
}

type traceService struct {
	coltracepb.UnimplementedTraceServiceServer
	c *Collector
}

func (s traceService) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	s.c.addSpans(req)
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

type logsService struct {
	collogspb.UnimplementedLogsServiceServer
	c *Collector
}

func (s logsService) Export(_ context.Context, req *collogspb.ExportLogsServiceRequest) (*collogspb.ExportLogsServiceResponse, error) {
	s.c.addLogs(req)
	return &collogspb.ExportLogsServiceResponse{}, nil
}

func (c *Collector) addSpans(req *coltracepb.ExportTraceServiceRequest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.ResourceSpans {
		res := resourceOf(rs.GetResource())
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				c.spans = append(c.spans, Span{
					TraceID: hex.EncodeToString(s.TraceId), SpanID: hex.EncodeToString(s.SpanId),
					ParentSpanID: hex.EncodeToString(s.ParentSpanId), Name: s.Name, Service: res["service.name"],
					Kind:  kinds[s.Kind],
					Start: time.Unix(0, int64(s.StartTimeUnixNano)), End: time.Unix(0, int64(s.EndTimeUnixNano)),
					Error:    s.GetStatus().GetCode() == tracepb.Status_STATUS_CODE_ERROR,
					Resource: res, Attributes: attributes(s.Attributes),
				})
			}
		}
	}
}

func (c *Collector) addLogs(req *collogspb.ExportLogsServiceRequest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rl := range req.ResourceLogs {
		res := resourceOf(rl.GetResource())
		for _, sl := range rl.ScopeLogs {
			for _, l := range sl.LogRecords {
				c.logs = append(c.logs, Log{
					TraceID: hex.EncodeToString(l.TraceId), SpanID: hex.EncodeToString(l.SpanId),
					Body: value(l.GetBody()), Severity: l.SeverityText, Service: res["service.name"],
					Attributes: attributes(l.Attributes),
				})
			}
		}
	}
}

var kinds = map[tracepb.Span_SpanKind]string{
	tracepb.Span_SPAN_KIND_SERVER: "server", tracepb.Span_SPAN_KIND_CLIENT: "client",
	tracepb.Span_SPAN_KIND_PRODUCER: "producer", tracepb.Span_SPAN_KIND_CONSUMER: "consumer",
	tracepb.Span_SPAN_KIND_INTERNAL: "internal",
}

func resourceOf(r *resourcepb.Resource) map[string]string { return attributes(r.GetAttributes()) }

func attributes(kvs []*commonpb.KeyValue) map[string]string {
	out := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		out[kv.Key] = value(kv.GetValue())
	}
	return out
}

func value(v *commonpb.AnyValue) string {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_IntValue:
		return strconv.FormatInt(x.IntValue, 10)
	case *commonpb.AnyValue_BoolValue:
		return strconv.FormatBool(x.BoolValue)
	case *commonpb.AnyValue_DoubleValue:
		return strconv.FormatFloat(x.DoubleValue, 'g', -1, 64)
	case *commonpb.AnyValue_ArrayValue:
		var parts []string
		for _, e := range x.ArrayValue.GetValues() {
			parts = append(parts, value(e))
		}
		return "[" + strings.Join(parts, ",") + "]"
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}
