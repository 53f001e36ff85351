package sqlite

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/eventshop/eventshop/internal/ordering"
)

func received(c <-chan ordering.Order) (ordering.Order, bool) {
	select {
	case o := <-c:
		return o, true
	default:
		return ordering.Order{}, false
	}
}

func TestAReaderIsHandedTheOrderOnceItIsCreated(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "ordering.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	created, stop := s.Arrival("ada", "o1")
	defer stop()
	also, stopAlso := s.Arrival("ada", "o1")
	defer stopAlso()
	other, stopOther := s.Arrival("bob", "o1")
	gone, stopGone := s.Arrival("ada", "o1")
	stopGone()
	if _, ok := received(created); ok {
		t.Fatal("handed an order not created")
	}
	at := time.Date(2026, 3, 4, 5, 6, 7, 8, time.UTC)
	o := ordering.Order{OrderID: "o1", UserName: "ada", Status: ordering.StatusPlaced, TotalPrice: 39_98,
		Lines:     []ordering.Line{{ProductID: "p1", ProductName: "Widget", Color: "red", Quantity: 2, UnitPrice: 19_99, LineTotal: 39_98}},
		FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com", Address: "1 St", PaymentMethod: "invoice",
		OrderDate: at, History: []ordering.Change{{Status: ordering.StatusPlaced, At: at}}, Version: 1}
	if err := s.Create(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	got, ok := received(created)
	if _, alsoOK := received(also); !ok || !alsoOK {
		t.Fatal("the readers of ada's o1 were not handed it")
	}
	// What a reader is handed reads, as JSON, the same as the stored order.
	stored, err := s.Get(t.Context(), "ada", "o1")
	if err != nil {
		t.Fatal(err)
	}
	if a, b := mustJSON(t, got), mustJSON(t, stored); a != b {
		t.Errorf("handed %s\nstored %s", a, b)
	}
	if _, ok := received(other); ok {
		t.Error("bob's o1 handed ada's o1")
	}
	if _, ok := received(gone); ok {
		t.Error("a reader that stopped waiting was handed the order")
	}
	stopOther()
	if n := len(s.arrivals.waiting); n != 0 {
		t.Errorf("%d orders still awaited after every reader stopped", n)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
