package localapp

import (
	"context"
	"errors"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"

	"github.com/eventshop/eventshop/internal/sqlitedb"
)

// observe registers the gauges read at each scrape of /metrics: each queue's
// depth, messages in flight and dead letters, each service's outbox lag
// (the age of its oldest event not yet relayed) and pending events, and
// each database's commits.
func (a *App) observe() (unregister func() error, err error) {
	m := otel.Meter("github.com/eventshop/eventshop/internal/localapp")
	depth, err1 := m.Int64ObservableGauge("eventshop.queue.depth", metric.WithUnit("{message}"),
		metric.WithDescription("Messages waiting in a queue to be received."))
	inFlight, err2 := m.Int64ObservableGauge("eventshop.queue.in_flight", metric.WithUnit("{message}"),
		metric.WithDescription("Messages of a queue received and not yet settled, or failed and waiting for their next receive."))
	dead, err3 := m.Int64ObservableGauge("eventshop.queue.dead_letters", metric.WithUnit("{message}"),
		metric.WithDescription("Messages in a queue's dead-letter queue."))
	lag, err4 := m.Float64ObservableGauge("eventshop.outbox.lag", metric.WithUnit("s"),
		metric.WithDescription("Age of the oldest event a service's outbox has not relayed yet; 0 when it is empty."))
	pending, err5 := m.Int64ObservableGauge("eventshop.outbox.pending", metric.WithUnit("{event}"),
		metric.WithDescription("Events waiting in a service's outbox."))
	commits, err6 := m.Int64ObservableCounter("eventshop.db.commits", metric.WithUnit("{commit}"),
		metric.WithDescription("Transactions committed on a database, by its name: each one fsync of its write-ahead log (synchronous=FULL)."))
	if err := errors.Join(err1, err2, err3, err4, err5, err6); err != nil {
		return nil, err
	}
	reg, err := m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		// A scrape may be running when the shop closes: Close waits for it,
		// and a later one reads nothing from the closed databases.
		a.gauges.RLock()
		defer a.gauges.RUnlock()
		if a.gauges.closed {
			return nil
		}
		stats, err := a.bus.Stats(ctx)
		if err != nil {
			return err
		}
		for _, s := range stats {
			q := metric.WithAttributeSet(attribute.NewSet(semconv.MessagingDestinationName(s.Queue)))
			o.ObserveInt64(depth, int64(s.Messages-s.InFlight), q)
			o.ObserveInt64(inFlight, int64(s.InFlight), q)
			o.ObserveInt64(dead, int64(s.DeadLetters), q)
		}
		obs, err := a.outboxStats(ctx)
		if err != nil {
			return err
		}
		for _, ob := range obs {
			svc := metric.WithAttributeSet(attribute.NewSet(semconv.ServiceName(ob.Service)))
			o.ObserveInt64(pending, int64(ob.Pending), svc)
			o.ObserveFloat64(lag, ob.LagSeconds, svc)
		}
		for name, n := range sqlitedb.CommitsByDatabase() {
			o.ObserveInt64(commits, n, metric.WithAttributeSet(attribute.NewSet(semconv.DBNamespace(name))))
		}
		return nil
	}, depth, inFlight, dead, lag, pending, commits)
	if err != nil {
		return nil, err
	}
	return func() error {
		a.gauges.Lock()
		a.gauges.closed = true
		a.gauges.Unlock()
		return reg.Unregister()
	}, nil
}

// gaugeGuard lets Close stop the gauges' reads before the databases close.
type gaugeGuard struct {
	sync.RWMutex
	closed bool
}
