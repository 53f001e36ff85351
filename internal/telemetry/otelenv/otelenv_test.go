package otelenv_test

import (
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/eventshop/eventshop/internal/telemetry/otelenv"
)

// The environment chooses the export of each signal, and a value the shop
// cannot honour is an error naming its variable.
func TestProtocol(t *testing.T) {
	for _, c := range []struct {
		name    string
		env     map[string]string
		want    string
		wantErr string
	}{
		{"nothing set: no export", nil, "", ""},
		{"an endpoint: OTLP/HTTP", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, "http/protobuf", ""},
		{"the signal's own endpoint", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, "http/protobuf", ""},
		{"another signal's endpoint: none", map[string]string{"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://c:4318/v1/logs"}, "", ""},
		{"gRPC", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "grpc", ""},
		{"the signal's protocol wins", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"}, "grpc", ""},
		{"exporter none", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, "", ""},
		{"exporter otlp, no endpoint: the default one", map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, "http/protobuf", ""},
		{"http/json refused", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, "", "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{"an unknown exporter refused", map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, "", "OTEL_TRACES_EXPORTER"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, v := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
				"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_TRACES_EXPORTER"} {
				t.Setenv(v, c.env[v])
			}
			got, err := otelenv.Protocol("TRACES")
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err %v, want one naming %s", err, c.wantErr)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

// An exporter is made only when asked for.
func TestSpanExporter(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	if exp, err := otelenv.SpanExporter(t.Context()); exp != nil || err != nil {
		t.Fatalf("no endpoint: %v, %v; want none", exp, err)
	}
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	exp, err := otelenv.SpanExporter(t.Context())
	if err != nil || exp == nil {
		t.Fatalf("gRPC: %v, %v", exp, err)
	}
	_ = exp.Shutdown(t.Context())
}

// OTEL_TRACES_SAMPLER names one of the SDK's samplers, or the default
// stays; a value out of range is refused.
func TestSampler(t *testing.T) {
	def := sdktrace.NeverSample()
	for _, c := range []struct{ sampler, arg, want, wantErr string }{
		{"", "", def.Description(), ""},
		{"always_on", "", sdktrace.AlwaysSample().Description(), ""},
		{"parentbased_traceidratio", "0.25", sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.25)).Description(), ""},
		{"traceidratio", "", sdktrace.AlwaysSample().Description(), ""},
		{"traceidratio", "1.5", "", "OTEL_TRACES_SAMPLER_ARG"},
		{"jaeger_remote", "", "", "OTEL_TRACES_SAMPLER"},
	} {
		t.Setenv("OTEL_TRACES_SAMPLER", c.sampler)
		t.Setenv("OTEL_TRACES_SAMPLER_ARG", c.arg)
		got, err := otelenv.Sampler(def)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s(%s): err %v, want one naming %s", c.sampler, c.arg, err, c.wantErr)
			}
			continue
		}
		if err != nil || got.Description() != c.want {
			t.Errorf("%s(%s): %v, %v; want %s", c.sampler, c.arg, got, err, c.want)
		}
	}
}
