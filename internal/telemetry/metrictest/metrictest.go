// Package metrictest reads, in tests, what instruments recorded through the
// global meter provider.
package metrictest

import (
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

var (
	once   sync.Once
	reader *sdkmetric.ManualReader
)

// Counted sums the points of the int64 counter name whose attribute key is
// value. Its first call makes a meter provider with a manual reader the
// process's global one (the first set is the one instruments delegate to).
func Counted(t testing.TB, name string, key attribute.Key, value string) int64 {
	t.Helper()
	once.Do(func() {
		reader = sdkmetric.NewManualReader()
		otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	})
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(t.Context(), &rm); err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if sum, ok := m.Data.(metricdata.Sum[int64]); ok && m.Name == name {
				for _, p := range sum.DataPoints {
					if v, _ := p.Attributes.Value(key); v.AsString() == value {
						n += p.Value
					}
				}
			}
		}
	}
	return n
}
