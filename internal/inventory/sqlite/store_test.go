package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/eventstest"
	"github.com/eventshop/eventshop/internal/inventory"
	"github.com/eventshop/eventshop/internal/inventory/sqlite"
	"github.com/eventshop/eventshop/internal/inventory/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, storetest.Adapter{
		New: func(t *testing.T) inventory.Store {
			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "inventory.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		Dying: func(t *testing.T, s inventory.Store, n int) inventory.Store { return dying{s, n} },
		// Contended: none. SQLite's writers take the database's one write
		// lock in turn (busy_timeout): no write is refused for meeting a
		// transaction, so there is no conflict to wait out.
	})
}

// dying is a store whose every operation is one transaction: its process
// dies before it (n 0) or once it committed (n 1), the answer lost.
type dying struct {
	inventory.Store
	n int
}

var errDied = errors.New("the process died")

func (d dying) Reserve(ctx context.Context, orderID string, lines []inventory.Need, emit inventory.EmitReserve) (inventory.ReservationOutcome, error) {
	if d.n == 0 {
		return "", errDied
	}
	o, err := d.Store.Reserve(ctx, orderID, lines, emit)
	if d.n == 1 {
		return "", errDied
	}
	return o, err
}

// A reservation's events commit with it, in the outbox; a repeat adds none.
func TestReservationEventsCommitWithIt(t *testing.T) {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "inventory.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Announce(t.Context(), "a", 1, false); err != nil {
		t.Fatal(err)
	}
	emit := func(o inventory.ReservationOutcome, _ []string) ([]events.Outgoing, error) {
		e, err := events.New(context.Background(), "test", "Reserved", map[string]string{"outcome": string(o)}, time.Now())
		return []events.Outgoing{e}, err
	}
	for range 2 {
		if _, err := s.Reserve(t.Context(), "o1", []inventory.Need{{ProductID: "a", Quantity: 1}}, emit); err != nil {
			t.Fatal(err)
		}
	}
	var c eventstest.Collector
	if _, err := s.Outbox().Flush(t.Context(), &c); err != nil {
		t.Fatal(err)
	}
	if got := c.Events(); len(got) != 1 || string(got[0].Detail) != `{"outcome":"reserved"}` {
		t.Fatalf("outbox %+v", got)
	}
}
