package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/eventshop/eventshop/internal/ordering"
	"github.com/eventshop/eventshop/internal/ordering/sqlite"
	"github.com/eventshop/eventshop/internal/ordering/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) ordering.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ordering.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// Seed writes orders the store reads back as it wrote them.
func TestSeededOrdersReadBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ordering.db")
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	order := func(i int) ordering.Order {
		return ordering.Order{OrderID: fmt.Sprintf("o%d", i), UserName: "alice", Status: ordering.StatusPaid, TotalPrice: 1999,
			Lines:   []ordering.Line{{ProductID: "p1", ProductName: "Widget", Quantity: 1, UnitPrice: 1999, LineTotal: 1999}},
			History: []ordering.Change{{Status: ordering.StatusPlaced, At: at}}, OrderDate: at, Version: 1}
	}
	if err := sqlite.Seed(t.Context(), path, 3, order); err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Get(t.Context(), "alice", "o2")
	if err != nil || !reflect.DeepEqual(got, order(2)) {
		t.Fatalf("Get = %+v, %v; want %+v", got, err, order(2))
	}
}
