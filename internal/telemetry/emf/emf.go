// Package emf writes OpenTelemetry metrics as CloudWatch embedded metric
// format (EMF) log lines. A Lambda function prints them to standard output;
// CloudWatch Logs turns them into metrics, with no call to CloudWatch's API
// on the request's path.
package emf

import (
	"encoding/json"
	"fmt"
	"io"
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
	values map[string]float64
}

// Write writes one line per attribute set of rm under namespace: the value
// of every counter and gauge recorded at that set (a counter's increase since
// the last collection; a counter that did not move is left out), with the
// set's attributes and the resource's service.name as the dimensions.
// Histograms are not written.
func Write(w io.Writer, namespace string, rm *metricdata.ResourceMetrics) error {
	service, _ := rm.Resource.Set().Value(semconv.ServiceNameKey)
	lines := map[attribute.Distinct]*line{}
	var order []attribute.Distinct
	add := func(name, unit string, attrs attribute.Set, at time.Time, v float64) {
		key := attrs.Equivalent()
		l, ok := lines[key]
		if !ok {
			l = &line{attrs: attrs, units: map[string]string{}, values: map[string]float64{}}
			lines[key] = l
			order = append(order, key)
		}
		if _, seen := l.values[name]; !seen {
			l.names = append(l.names, name)
		}
		l.values[name] += v
		l.units[name] = cloudWatchUnit(unit)
		if at.After(l.at) {
			l.at = at
		}
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
			}
		}
	}
	enc := json.NewEncoder(w)
	for _, key := range order {
		if err := enc.Encode(lines[key].emf(namespace, service.String())); err != nil {
			return fmt.Errorf("write EMF: %w", err)
		}
	}
	return nil
}

// emf is l in the embedded metric format.
func (l *line) emf(namespace, service string) map[string]any {
	out := map[string]any{}
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
