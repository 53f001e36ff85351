package basket_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/eventshop/eventshop/internal/basket"
	"github.com/eventshop/eventshop/internal/validation"
)

func TestPriceBasket(t *testing.T) {
	prices := map[string]basket.Price{
		"p1": {ProductID: "p1", Name: "Widget", Price: 1999, Version: 1},
		"p2": {ProductID: "p2", Name: "Gadget", Price: 10, Version: 3},
		"p3": {ProductID: "p3", Version: 2, Deleted: true},
	}
	tests := []struct {
		name      string
		items     []basket.Item
		wantTotal string
		unknown   string
	}{
		{"empty", nil, "0.00", ""},
		{"exact cents", []basket.Item{{ProductID: "p1", Quantity: 3}}, "59.97", ""},
		{"two lines", []basket.Item{{ProductID: "p1", Quantity: 3}, {ProductID: "p2", Quantity: 99}}, "69.87", ""},
		{"missing product", []basket.Item{{ProductID: "p1", Quantity: 1}, {ProductID: "nope", Quantity: 1}}, "19.99", "nope"},
		{"deleted product", []basket.Item{{ProductID: "p3", Quantity: 1}}, "0.00", "p3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := basket.PriceBasket(basket.Basket{UserName: "u", Items: tt.items}, prices)
			if got.TotalPrice.String() != tt.wantTotal {
				t.Errorf("total = %s, want %s", got.TotalPrice, tt.wantTotal)
			}
			var unknown *basket.UnknownProductError
			switch {
			case tt.unknown == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tt.unknown != "" && (!errors.As(err, &unknown) || unknown.ProductID != tt.unknown):
				t.Errorf("error = %v, want unknown product %s", err, tt.unknown)
			}
			for i, l := range got.Items {
				if l.Unavailable != (l.ProductID == "nope" || l.ProductID == "p3") {
					t.Errorf("line %d unavailable = %v", i, l.Unavailable)
				}
			}
		})
	}
}

func TestValidateItems(t *testing.T) {
	many := make([]basket.Item, basket.MaxLines+1)
	for i := range many {
		many[i] = basket.Item{ProductID: "p" + strings.Repeat("x", i%5) + string(rune('a'+i%26)), Quantity: 1, Color: string(rune('a' + i/26))}
	}
	tests := []struct {
		name  string
		items []basket.Item
		field string // "" means valid
	}{
		{"ok", []basket.Item{{ProductID: "p1", Quantity: 1}, {ProductID: "p1", Quantity: 99, Color: "red"}}, ""},
		{"zero quantity", []basket.Item{{ProductID: "p1", Quantity: 0}}, "items[0].quantity"},
		{"too many", []basket.Item{{ProductID: "p1", Quantity: 100}}, "items[0].quantity"},
		{"bad id", []basket.Item{{ProductID: "p1", Quantity: 1}, {ProductID: "a/b", Quantity: 1}}, "items[1].productId"},
		{"long color", []basket.Item{{ProductID: "p1", Quantity: 1, Color: strings.Repeat("c", 33)}}, "items[0].color"},
		{"duplicate line", []basket.Item{{ProductID: "p1", Quantity: 1}, {ProductID: "p1", Quantity: 2}}, "items[1]"},
		{"too many lines", many, "items"},
		{"the most lines", many[:basket.MaxLines], ""},
		{"color of 32", []basket.Item{{ProductID: "p1", Quantity: 1, Color: strings.Repeat("c", 32)}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := basket.ValidateItems(tt.items)
			var verr *validation.Error
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("unexpected %v", err)
			case tt.field != "" && (!errors.As(err, &verr) || verr.Field != tt.field):
				t.Fatalf("error = %v, want one naming %s", err, tt.field)
			}
		})
	}
}
