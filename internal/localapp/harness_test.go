package localapp_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/eventshop/eventshop/api"
	"github.com/eventshop/eventshop/internal/eventschema"
	"github.com/eventshop/eventshop/internal/localapp"
	"github.com/eventshop/eventshop/internal/localapp/localapptest"
	"github.com/eventshop/eventshop/internal/localbus"
)

// shop is the local app running in-process behind an httptest server.
type shop struct {
	*localapptest.Shop
	t testing.TB
}

func start(t testing.TB, dir string, demo bool) *shop {
	t.Helper()
	return startWith(t, dir, demo, false)
}

func startWith(t testing.TB, dir string, demo, untraced bool) *shop {
	t.Helper()
	s := localapptest.Start(t, localapp.Config{DataDir: dir, Demo: demo, Untraced: untraced, DevSignIn: true})
	holdToSchemas(t, s.App.Bus())
	return &shop{Shop: s, t: t}
}

// unchecked are events tests publish on purpose against their schema.
var unchecked sync.Map

// holdToSchemas validates every event the bus takes while the test runs
// against its schema (api/events): the local producers are held to them.
// A watcher more than 256 events behind misses the newest (localbus.Watch);
// it checks all it sees, and fails the test at its end for any that breaks
// a schema.
func holdToSchemas(t testing.TB, bus *localbus.Bus) {
	t.Helper()
	v, err := eventschema.NewValidator(api.EventSchemas)
	if err != nil {
		t.Fatal(err)
	}
	recent, live, stop := bus.Watch()
	var errs []error
	check := func(p localbus.Published) {
		var id struct{ ID string }
		if json.Unmarshal(p.Envelope, &id) == nil {
			if _, skip := unchecked.Load(id.ID); skip {
				return
			}
		}
		if err := v.Envelope(p.Envelope); err != nil {
			errs = append(errs, fmt.Errorf("%w\n%s", err, p.Envelope))
		}
	}
	for _, p := range recent {
		check(p)
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case p := <-live:
				check(p)
			case <-done:
				for {
					select {
					case p := <-live:
						check(p)
					default:
						return
					}
				}
			}
		}
	}()
	t.Cleanup(func() {
		stop()
		close(done)
		<-finished
		for _, err := range errs {
			t.Errorf("an event broke its schema: %v", err)
		}
	})
}

// client calls the shop as one caller: a user, an admin, or nobody.
type client = localapptest.Client

func (s *shop) anonymous() client { return s.Anonymous(s.t) }

func (s *shop) as(user string, admin bool) client {
	s.t.Helper()
	return s.As(s.t, user, admin)
}

type product struct {
	ID      string          `json:"id"`
	Price   json.RawMessage `json:"price"`
	Version int64           `json:"version"`
}

type basketResp struct {
	Items []struct {
		ProductID   string          `json:"productId"`
		ProductName string          `json:"productName"`
		Quantity    int             `json:"quantity"`
		UnitPrice   json.RawMessage `json:"unitPrice"`
		LineTotal   json.RawMessage `json:"lineTotal"`
	} `json:"items"`
	TotalPrice json.RawMessage `json:"totalPrice"`
}

type order struct {
	OrderID    string          `json:"orderId"`
	UserName   string          `json:"userName"`
	Status     string          `json:"status"`
	TotalPrice json.RawMessage `json:"totalPrice"`
	OrderDate  time.Time       `json:"orderDate"`
	Lines      []struct {
		ProductID string `json:"productId"`
		Quantity  int    `json:"quantity"`
	} `json:"lines"`
}

type list[T any] struct {
	Items     []T    `json:"items"`
	NextToken string `json:"nextToken"`
}

const buyer = `"firstName":"Ada","lastName":"Lovelace","email":"ada@example.com","address":"1 Analytical St","paymentMethod":"invoice"`
