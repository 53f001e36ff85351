package localapp_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventshop/eventshop/api"
	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/eventschema"
	"github.com/eventshop/eventshop/internal/localbus"
	"github.com/eventshop/eventshop/internal/money"
	"github.com/eventshop/eventshop/internal/sqlitedb"
	"github.com/eventshop/eventshop/internal/waittest"
)

func TestDeadLetterAdminAPI(t *testing.T) {
	s := start(t, t.TempDir(), false)
	admin, alice := s.as("root", true), s.as("alice", false)
	q := eventbus.QueueOrderingOrders
	// A checkout the ordering consumer can never place: it ends in the dead-letter queue.
	poison := events.Outgoing{ID: "poison-1", Source: events.SourceCheckout, DetailType: events.TypeCheckoutBasket, Detail: json.RawMessage(`{"checkoutId":"a/b"}`), Time: time.Now()}
	unchecked.Store(poison.ID, true)
	if err := s.App.Bus().Publish(t.Context(), []events.Outgoing{poison}); err != nil {
		t.Fatal(err)
	}
	var letters struct {
		Items []struct {
			ID   string          `json:"id"`
			Body json.RawMessage `json:"body"`
		} `json:"items"`
	}
	waittest.For(t, "the dead letter", func() bool {
		admin.Want(200, "GET", "/admin/queues/"+q+"/dead-letters", "").Decode(t, &letters)
		return len(letters.Items) == 1
	})
	id := letters.Items[0].ID
	if !bytes.Contains(letters.Items[0].Body, []byte(`"poison-1"`)) {
		t.Fatalf("dead letter %s", letters.Items[0].Body)
	}
	alice.WantProblem(403, "GET", "/admin/queues/"+q+"/dead-letters", "", "")
	s.anonymous().WantProblem(401, "GET", "/admin/queues", "", "")
	admin.WantProblem(404, "GET", "/admin/queues/nope/dead-letters", "", q)
	admin.WantProblem(404, "GET", "/admin/queues/"+q+"/dead-letters/m_nope", "", "no such dead letter")
	var stats struct {
		Items []struct {
			Queue       string `json:"queue"`
			DeadLetters int    `json:"deadLetters"`
		} `json:"items"`
	}
	admin.Want(200, "GET", "/admin/queues", "").Decode(t, &stats)
	if len(stats.Items) != len(eventbus.Rules()) {
		t.Fatalf("queues %+v", stats)
	}
	admin.Want(200, "GET", "/admin/queues/"+q+"/dead-letters/"+id, "")
	var moved struct{ Moved int }
	admin.Want(200, "POST", "/admin/queues/"+q+"/dead-letters/"+id+"/redrive", "").Decode(t, &moved)
	if moved.Moved != 1 {
		t.Fatalf("redrive moved %d", moved.Moved)
	}
	// Still poison: back in the dead-letter queue after its receives.
	waittest.For(t, "the dead letter to come back", func() bool {
		admin.Want(200, "GET", "/admin/queues/"+q+"/dead-letters", "").Decode(t, &letters)
		return len(letters.Items) == 1
	})
	admin.Want(200, "POST", "/admin/queues/"+q+"/dead-letters/redrive", "").Decode(t, &moved)
	waittest.For(t, "the dead letter to come back again", func() bool {
		admin.Want(200, "GET", "/admin/queues/"+q+"/dead-letters", "").Decode(t, &letters)
		return len(letters.Items) == 1
	})
	admin.Want(204, "DELETE", "/admin/queues/"+q+"/dead-letters/"+letters.Items[0].ID, "")
	admin.Want(200, "GET", "/admin/queues/"+q+"/dead-letters", "").Decode(t, &letters)
	if len(letters.Items) != 0 {
		t.Fatalf("after delete: %+v", letters)
	}
}

// The basket service's price view is lost (its rows deleted); a replay of
// the catalog's archived events to its queue rebuilds it, and every basket
// prices as before. A second replay, while prices change and baskets are
// written, leaves the view at the catalog's newest prices: an old event
// replayed never undoes a newer one.
func TestReplayRebuildsThePriceView(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir, false)
	defer s.Stop()
	ctx := t.Context()
	admin, alice := s.as("root", true), s.as("alice", false)
	began := time.Now().Add(-time.Minute)
	var ids []string
	for i := range 3 {
		var p product
		admin.Want(201, "POST", "/product", fmt.Sprintf(`{"name":"P%d","category":"Tools","price":%d.50}`, i, 10+i)).Decode(t, &p)
		ids = append(ids, p.ID)
	}
	fill := fmt.Sprintf(`{"items":[{"productId":%q,"quantity":1},{"productId":%q,"quantity":2},{"productId":%q,"quantity":3}]}`, ids[0], ids[1], ids[2])
	waittest.For(t, "the price view to know the products", func() bool { return alice.Do("POST", "/basket", fill).Status == 200 })
	before := string(alice.Want(200, "GET", "/basket/alice", "").Body)

	basketDB, err := sqlitedb.Open(ctx, filepath.Join(dir, "basket.db"), "select 1")
	if err != nil {
		t.Fatal(err)
	}
	defer basketDB.Close()
	if _, err := basketDB.ExecContext(ctx, `delete from prices`); err != nil {
		t.Fatal(err)
	}
	if now := string(alice.Want(200, "GET", "/basket/alice", "").Body); now == before || !strings.Contains(now, `"unavailable":true`) {
		t.Fatalf("the basket without its price view: %s", now)
	}

	replay := func() int {
		n, err := s.App.Bus().Replay(ctx, localbus.ReplayRequest{Queue: eventbus.QueueBasketPrices, From: began, To: time.Now()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	waittest.For(t, "the archive to hold the catalog's events", func() bool { return replay() >= 3 })
	waittest.For(t, "the basket to price as before", func() bool { return string(alice.Do("GET", "/basket/alice", "").Body) == before })

	// While prices change and baskets are written.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			admin.Want(200, "PUT", "/product/"+ids[i%3], fmt.Sprintf(`{"name":"P%d","category":"Tools","price":%d.%02d}`, i%3, 20+i, i%100))
			alice.Do("POST", "/basket", fill)
		}
	})
	for range 3 {
		replay()
	}
	close(stop)
	wg.Wait()
	waittest.For(t, "the price view to show the catalog's prices", func() bool {
		alice.Want(200, "POST", "/basket", fill)
		var b struct {
			Items []struct {
				ProductID string      `json:"productId"`
				UnitPrice money.Cents `json:"unitPrice"`
			} `json:"items"`
		}
		alice.Want(200, "GET", "/basket/alice", "").Decode(t, &b)
		for _, it := range b.Items {
			var p struct{ Price money.Cents }
			admin.Want(200, "GET", "/product/"+it.ProductID, "").Decode(t, &p)
			if it.UnitPrice != p.Price {
				return false
			}
		}
		return len(b.Items) == 3
	})
}

// Every consumer takes the schemas' own examples (api/events), one order's
// story published in order: none ends in a dead-letter queue.
func TestConsumersTakeTheSchemasExamples(t *testing.T) {
	s := start(t, t.TempDir(), false)
	defer s.Stop()
	ctx := t.Context()
	var evts []events.Outgoing
	for _, c := range events.Contracts() {
		b, err := fs.ReadFile(api.EventSchemas, eventschema.File(c.DetailType))
		if err != nil {
			t.Fatal(err)
		}
		var schema struct{ Examples []json.RawMessage }
		if err := json.Unmarshal(b, &schema); err != nil || len(schema.Examples) == 0 {
			t.Fatalf("%s has no example: %v", c.DetailType, err)
		}
		evts = append(evts, events.Outgoing{ID: "example-" + c.DetailType, Source: c.Source, DetailType: c.DetailType, Detail: schema.Examples[0], Time: time.Now()})
	}
	for _, e := range evts {
		if err := s.App.Bus().Publish(ctx, []events.Outgoing{e}); err != nil {
			t.Fatal(err)
		}
	}
	bus := s.App.Bus()
	waittest.For(t, "every queue to be empty", func() bool {
		stats, err := bus.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range stats {
			if st.Messages > 0 {
				return false
			}
		}
		return true
	})
	stats, err := bus.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range stats {
		if st.DeadLetters > 0 {
			letters, _ := bus.DeadLetters(ctx, st.Queue)
			t.Errorf("%s: %d dead letters: %+v", st.Queue, st.DeadLetters, letters)
		}
	}
}
