package consumer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/localbus"
	"github.com/eventshop/eventshop/internal/ordering/app"
	"github.com/eventshop/eventshop/internal/ordering/consumer"
	"github.com/eventshop/eventshop/internal/ordering/sqlite"
	"github.com/eventshop/eventshop/internal/page"
	"github.com/eventshop/eventshop/internal/sqlitedb"
	"github.com/eventshop/eventshop/internal/waittest"
)

// During a canary deployment the old and the new version of a consumer read
// the same queue, and the new version's publishers already send what the
// old one must take. The released consumer stands for both versions here;
// the events of the later phases carry a field the released contract does
// not have, as a new optional field would, and each is sent twice. Old
// alone, then both side by side, then new alone: every checkout makes
// exactly one order, whichever version took it and however often it came.
func TestTwoVersionsOfTheConsumerShareItsQueue(t *testing.T) {
	ctx := t.Context()
	log := slog.New(slog.DiscardHandler)
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ordering.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	orders := app.New(store)
	db, err := sqlitedb.Open(ctx, filepath.Join(t.TempDir(), "bus.db"), localbus.Schema)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rules []eventbus.Rule
	for _, r := range eventbus.Rules() {
		if r.Queue == eventbus.QueueOrderingOrders {
			rules = append(rules, r)
		}
	}
	bus, err := localbus.Open(ctx, db, rules, localbus.Options{PollInterval: 10 * time.Millisecond, RetryDelay: 10 * time.Millisecond}, log)
	if err != nil {
		t.Fatal(err)
	}

	// version runs one version of the consumer on the queue, counting what it handled.
	version := func(handled *atomic.Int32) (stop func()) {
		h := consumer.New(orders, log).Handle
		run, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = bus.Consume(run, eventbus.QueueOrderingOrders, func(ctx context.Context, ev awsevents.SQSEvent, _ func(string, error)) (awsevents.SQSEventResponse, error) {
				handled.Add(int32(len(ev.Records)))
				return h(ctx, ev)
			})
		}()
		return func() { cancel(); <-done }
	}
	n := 0
	// publish sends count checkouts, each twice; newer ones carry a field the
	// released contract does not have.
	publish := func(count int, newer bool) {
		t.Helper()
		var evts []events.Outgoing
		for range count {
			n++
			var detail map[string]any
			b, _ := json.Marshal(checkout(fmt.Sprintf("0193a1b2-c3d4-7e5f-8a9b-%012d", n)))
			_ = json.Unmarshal(b, &detail)
			if newer {
				detail["giftMessage"] = "Happy birthday"
			}
			e, err := events.New(context.Background(), events.SourceCheckout, events.TypeCheckoutBasket, detail, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			evts = append(evts, e, e)
		}
		if err := bus.Publish(ctx, evts); err != nil {
			t.Fatal(err)
		}
	}
	idle := func() {
		t.Helper()
		waittest.For(t, "the queue drained", func() bool {
			ok, err := bus.Idle(ctx)
			return err == nil && ok
		})
	}

	var byOld, byNew atomic.Int32
	stopOld := version(&byOld)
	publish(10, false)
	idle()
	stopNew := version(&byNew)
	defer stopNew()
	publish(20, true)
	idle()
	stopOld()
	publish(10, true)
	idle()

	res, err := orders.ListByUser(ctx, "alice", page.Request{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, o := range res.Items {
		seen[o.OrderID]++
	}
	if len(res.Items) != n || len(seen) != n {
		t.Fatalf("%d orders (%d distinct) for %d checkouts, each sent twice", len(res.Items), len(seen), n)
	}
	if byOld.Load() < 20 || byNew.Load() < 20 || byOld.Load()+byNew.Load() != int32(2*n) {
		t.Fatalf("the old version handled %d messages and the new %d, of %d: want each its own phase's and all handled once", byOld.Load(), byNew.Load(), 2*n)
	}
}
