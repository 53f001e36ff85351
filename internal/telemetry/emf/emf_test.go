package emf_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"

	"github.com/eventshop/eventshop/internal/telemetry/emf"
)

type directive struct {
	Namespace  string
	Dimensions [][]string
	Metrics    []struct{ Name, Unit string }
}

// Each attribute set becomes one EMF line holding every counter recorded at
// it since the last collection, its attributes and the service as dimensions;
// a collection after nothing happened writes nothing.
func TestCountersBecomeEMFLines(t *testing.T) {
	reader := emf.NewReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader), sdkmetric.WithResource(resource.NewSchemaless(
		semconv.ServiceName("ordering-consumer"), semconv.ServiceNamespace("eventshop"))))
	m := mp.Meter("test")
	delivered, _ := m.Int64Counter("eventshop.messages.delivered", metric.WithUnit("{message}"))
	failed, _ := m.Int64Counter("eventshop.messages.failed", metric.WithUnit("{message}"))
	lag, _ := m.Float64Counter("wait", metric.WithUnit("s"))
	q1 := metric.WithAttributes(attribute.String("messaging.destination.name", "q1"))
	q2 := metric.WithAttributes(attribute.String("messaging.destination.name", "q2"))
	delivered.Add(t.Context(), 3, q1)
	failed.Add(t.Context(), 1, q1)
	delivered.Add(t.Context(), 2, q2)
	lag.Add(t.Context(), 0.5)

	collect := func() []map[string]any {
		t.Helper()
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(t.Context(), &rm); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := emf.Write(&buf, "EventShop", &rm); err != nil {
			t.Fatal(err)
		}
		var lines []map[string]any
		dec := json.NewDecoder(&buf)
		for dec.More() {
			var l map[string]any
			if err := dec.Decode(&l); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, l)
		}
		return lines
	}
	lines := collect()
	if len(lines) != 3 {
		t.Fatalf("%d lines, want one per attribute set (q1, q2, none): %v", len(lines), lines)
	}
	byQueue := map[any]map[string]any{}
	for _, l := range lines {
		byQueue[l["messaging.destination.name"]] = l
	}
	q1Line := byQueue["q1"]
	if q1Line["eventshop.messages.delivered"] != 3.0 || q1Line["eventshop.messages.failed"] != 1.0 || q1Line["service.name"] != "ordering-consumer" ||
		q1Line["service.namespace"] != "eventshop" {
		t.Fatalf("q1 line %v", q1Line)
	}
	var aws struct {
		Timestamp         int64
		CloudWatchMetrics []directive
	}
	b, _ := json.Marshal(q1Line["_aws"])
	if err := json.Unmarshal(b, &aws); err != nil || len(aws.CloudWatchMetrics) != 1 || aws.Timestamp == 0 {
		t.Fatalf("_aws %s: %v", b, err)
	}
	d := aws.CloudWatchMetrics[0]
	if d.Namespace != "EventShop" || len(d.Dimensions) != 1 || len(d.Dimensions[0]) != 2 || d.Dimensions[0][0] != "service.name" || d.Dimensions[0][1] != "messaging.destination.name" {
		t.Fatalf("directive %+v", d)
	}
	if len(d.Metrics) != 2 || d.Metrics[0].Unit != "Count" || d.Metrics[1].Unit != "Count" {
		t.Fatalf("metrics %+v", d.Metrics)
	}
	if byQueue["q2"]["eventshop.messages.delivered"] != 2.0 || byQueue[nil]["wait"] != 0.5 {
		t.Fatalf("q2 line %v, unattributed line %v", byQueue["q2"], byQueue[nil])
	}
	b, _ = json.Marshal(byQueue[nil]["_aws"])
	if !bytes.Contains(b, []byte(`"Unit":"Seconds"`)) {
		t.Fatalf("seconds: %s", b)
	}

	if again := collect(); len(again) != 0 {
		t.Fatalf("a collection after nothing happened wrote %v", again)
	}
	delivered.Add(t.Context(), 1, q2)
	if again := collect(); len(again) != 1 || again[0]["eventshop.messages.delivered"] != 1.0 {
		t.Fatalf("the next collection wrote %v, want q2's one delivery since the last", again)
	}
}

// A histogram's measurements are written as EMF's values, each the middle
// of its bucket, at most emf.MaxValues of them.
func TestHistogramsBecomeValues(t *testing.T) {
	reader := emf.NewReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	h, _ := mp.Meter("test").Float64Histogram("took", metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(0.1, 1, 10))
	for _, v := range []float64{0.04, 0.5, 0.6, 20} {
		h.Record(t.Context(), v)
	}
	write := func() map[string]any {
		t.Helper()
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(t.Context(), &rm); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := emf.Write(&buf, "EventShop", &rm); err != nil {
			t.Fatal(err)
		}
		var l map[string]any
		if err := json.Unmarshal(buf.Bytes(), &l); err != nil {
			t.Fatalf("%s: %v", buf.Bytes(), err)
		}
		return l
	}
	got, _ := json.Marshal(write()["took"])
	if string(got) != "[0.07,0.55,0.55,20]" {
		t.Fatalf("values %s, want each bucket's middle per measurement, the last bucket's the maximum", got)
	}
	for range 1000 {
		h.Record(t.Context(), 0.5)
	}
	if values, _ := write()["took"].([]any); len(values) != emf.MaxValues {
		t.Fatalf("%d values for 1000 measurements, want %d", len(values), emf.MaxValues)
	}
}
