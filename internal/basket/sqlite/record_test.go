package sqlite

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/eventshop/eventshop/internal/basket"
)

// The items column as the store writes it: a basket's items, and with the
// prices it was priced with when it keeps them. The store must go on
// writing and reading the same, whatever the domain's types are called.
const (
	storedItems       = `[{"productId":"p1","quantity":2,"color":"red"},{"productId":"p2","quantity":1}]`
	storedItemsPriced = `{"items":[{"productId":"p1","quantity":2,"color":"red"},{"productId":"p2","quantity":1}],"prices":[{"productId":"p1","name":"Widget","priceCents":19.99,"version":3},{"productId":"p2","name":"Gadget","priceCents":5.00,"version":1,"deleted":true}]}`
)

func TestStoredFormatIsPinned(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "basket.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	items := []basket.Item{{ProductID: "p1", Quantity: 2, Color: "red"}, {ProductID: "p2", Quantity: 1}}
	prices := []basket.Price{{ProductID: "p1", Name: "Widget", Price: 1999, Version: 3}, {ProductID: "p2", Name: "Gadget", Price: 500, Version: 1, Deleted: true}}
	column := func(user string) string {
		t.Helper()
		var c string
		if err := s.DB.QueryRowContext(t.Context(), `select items from baskets where user_name = ?`, user).Scan(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	if _, err := s.Replace(t.Context(), "ada", items); err != nil {
		t.Fatal(err)
	}
	if got := column("ada"); got != storedItems {
		t.Errorf("wrote %s\nwant  %s", got, storedItems)
	}
	if _, err := s.ReplacePriced(t.Context(), "bob", items, prices); err != nil {
		t.Fatal(err)
	}
	if got := column("bob"); got != storedItemsPriced {
		t.Errorf("wrote %s\nwant  %s", got, storedItemsPriced)
	}
	for user, wantPrices := range map[string][]basket.Price{"ada": nil, "bob": prices} {
		b, err := s.Get(t.Context(), user)
		if err != nil || !reflect.DeepEqual(b.Items, items) || !reflect.DeepEqual(b.Prices, wantPrices) {
			t.Errorf("read %s's basket %+v, %v; want items %+v, prices %+v", user, b, err, items, wantPrices)
		}
	}
}
