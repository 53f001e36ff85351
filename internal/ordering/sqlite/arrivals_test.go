package sqlite

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/eventshop/eventshop/internal/ordering"
)

func TestAnArrivalIsToldOnceTheOrderIsCreated(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "ordering.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	created, stop := s.Arrival("ada", "o1")
	defer stop()
	other, stopOther := s.Arrival("bob", "o1")
	again, stopAgain := s.Arrival("ada", "o1")
	stopAgain()
	isClosed := func(c <-chan struct{}) bool {
		select {
		case <-c:
			return true
		default:
			return false
		}
	}
	if isClosed(created) {
		t.Fatal("told of an order not created")
	}
	o := ordering.Order{OrderID: "o1", UserName: "ada", Status: ordering.StatusPlaced, OrderDate: time.Now().UTC(), Version: 1}
	if err := s.Create(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	if !isClosed(created) || !isClosed(again) {
		t.Error("not told that ada's o1 was created")
	}
	if isClosed(other) {
		t.Error("bob's o1 told of ada's o1")
	}
	stopOther()
	if n := len(s.arrivals.waiting); n != 0 {
		t.Errorf("%d arrivals still kept after every reader stopped", n)
	}
}
