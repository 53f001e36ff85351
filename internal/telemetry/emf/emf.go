// Package emf writes OpenTelemetry metrics as CloudWatch embedded metric
// format (EMF) log lines. A Lambda function prints them to standard output;
// CloudWatch Logs turns them into metrics, with no call to CloudWatch's API
// on the request's path.
package emf

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
)

// NewReader returns the reader whose collections Write expects: counters as
// deltas, so that each collection writes what happened since the last one.
func NewReader() *sdkmetric.ManualReader {
	return sdkmetric.NewManualReader(sdkmetric.WithTemporalitySelector(func(sdkmetric.InstrumentKind) metricdata.Temporality {
		return metricdata.DeltaTemporality
	}))
}

// line is one EMF log line: the metrics recorded at one attribute set.
type line struct {
	attrs  attribute.Set
	at     time.Time
	names  []string
	units  map[string]string
	values map[string]any // a number, or a histogram's samples
}

// Write writes one line per attribute set of rm under namespace: the value
// of every counter and gauge recorded at that set (a counter's increase since
// the last collection; a counter that did not move is left out), and each
// histogram's measurements as EMF's array of values (each one the middle of
// its bucket, at most MaxValues), with the set's attributes and the
// resource's service.name as the dimensions, and the rest of the resource
// (service.namespace, service.version, the function; not the SDK's own) as
// properties.
func Write(w io.Writer, namespace string, rm *metricdata.ResourceMetrics) error {
	service, _ := rm.Resource.Set().Value(semconv.ServiceNameKey)
	var properties []attribute.KeyValue
	for _, kv := range rm.Resource.Attributes() {
		if kv.Key != semconv.ServiceNameKey && !strings.HasPrefix(string(kv.Key), "telemetry.sdk.") {
			properties = append(properties, kv)
		}
	}
	lines := map[attribute.Distinct]*line{}
	var order []attribute.Distinct
	at := func(name, unit string, attrs attribute.Set, t time.Time) *line {
		key := attrs.Equivalent()
		l, ok := lines[key]
		if !ok {
			l = &line{attrs: attrs, units: map[string]string{}, values: map[string]any{}}
			lines[key] = l
			order = append(order, key)
		}
		if _, seen := l.values[name]; !seen {
			l.names = append(l.names, name)
		}
		l.units[name] = cloudWatchUnit(unit)
		if t.After(l.at) {
			l.at = t
		}
		return l
	}
	add := func(name, unit string, attrs attribute.Set, t time.Time, v float64) {
		l := at(name, unit, attrs, t)
		sum, _ := l.values[name].(float64)
		l.values[name] = sum + v
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					if p.Value != 0 {
						add(m.Name, m.Unit, p.Attributes, p.Time, float64(p.Value))
					}
				}
			case metricdata.Sum[float64]:
				for _, p := range d.DataPoints {
					if p.Value != 0 {
						add(m.Name, m.Unit, p.Attributes, p.Time, p.Value)
					}
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					add(m.Name, m.Unit, p.Attributes, p.Time, float64(p.Value))
				}
			case metricdata.Gauge[float64]:
				for _, p := range d.DataPoints {
					add(m.Name, m.Unit, p.Attributes, p.Time, p.Value)
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					if p.Count > 0 {
						at(m.Name, m.Unit, p.Attributes, p.Time).values[m.Name] = samples(p)
					}
				}
			}
		}
	}
	enc := json.NewEncoder(w)
	for _, key := range order {
		if err := enc.Encode(lines[key].emf(namespace, service.String(), properties)); err != nil {
			return fmt.Errorf("write EMF: %w", err)
		}
	}
	return nil
}

// emf is l in the embedded metric format.
func (l *line) emf(namespace, service string, properties []attribute.KeyValue) map[string]any {
	out := map[string]any{}
	for _, kv := range properties {
		out[string(kv.Key)] = kv.Value.String()
	}
	dims := []string{}
	if service != "" {
		out[string(semconv.ServiceNameKey)] = service
		dims = append(dims, string(semconv.ServiceNameKey))
	}
	for _, kv := range l.attrs.ToSlice() {
		out[string(kv.Key)] = kv.Value.String()
		dims = append(dims, string(kv.Key))
	}
	type metric struct{ Name, Unit string }
	metrics := make([]metric, len(l.names))
	for i, n := range l.names {
		metrics[i] = metric{n, l.units[n]}
		out[n] = l.values[n]
	}
	out["_aws"] = map[string]any{
		"Timestamp": l.at.UnixMilli(),
		"CloudWatchMetrics": []map[string]any{{
			"Namespace":  namespace,
			"Dimensions": [][]string{dims},
			"Metrics":    metrics,
		}},
	}
	return out
}

// MaxValues is the most values EMF takes for one metric in one line.
const MaxValues = 100

// samples are a histogram's measurements as values EMF takes: each
// bucket's count of its middle (the first bucket's from the minimum, the
// last's the maximum), at most MaxValues, fewest dropped from each bucket
// alike.
func samples(p metricdata.HistogramDataPoint[float64]) []float64 {
	scale := min(1, float64(MaxValues)/float64(p.Count))
	lowest, _ := p.Min.Value()
	highest, _ := p.Max.Value()
	var out []float64
	for i, n := range p.BucketCounts {
		if n == 0 {
			continue
		}
		var v float64
		switch {
		case i == len(p.Bounds): // above the last bound
			v = highest
		case i == 0:
			v = (lowest + p.Bounds[0]) / 2
		default:
			v = (p.Bounds[i-1] + p.Bounds[i]) / 2
		}
		for range max(1, int(float64(n)*scale)) {
			if len(out) < MaxValues {
				out = append(out, v)
			}
		}
	}
	return out
}

// cloudWatchUnit is CloudWatch's name for an OpenTelemetry (UCUM) unit;
// annotations such as {message} are counts.
func cloudWatchUnit(unit string) string {
	switch {
	case unit == "s":
		return "Seconds"
	case unit == "ms":
		return "Milliseconds"
	case unit == "By":
		return "Bytes"
	case unit == "1" || (len(unit) > 1 && unit[0] == '{'):
		return "Count"
	}
	return "None"
}
