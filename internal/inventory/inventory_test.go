package inventory_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/eventshop/eventshop/internal/inventory"
	"github.com/eventshop/eventshop/internal/validation"
)

func TestValidateLines(t *testing.T) {
	l := func(p string, q int) inventory.Need { return inventory.Need{ProductID: p, Quantity: q} }
	tests := []struct {
		lines []inventory.Need
		field string // "" when valid
	}{
		{[]inventory.Need{l("a", 1), l("b", inventory.MaxAvailable)}, ""},
		{nil, "lines"},
		{[]inventory.Need{l("a", 0)}, "lines[0].quantity"},
		{[]inventory.Need{l("a", inventory.MaxAvailable+1)}, "lines[0].quantity"},
		{[]inventory.Need{l("a/b", 1)}, "lines[0].productId"},
		{[]inventory.Need{l("a", 1), l("a", 2)}, "lines[1]"},
	}
	for _, tt := range tests {
		err := inventory.ValidateLines(tt.lines)
		var verr *validation.Error
		if (tt.field == "") != (err == nil) || (err != nil && (!errors.As(err, &verr) || verr.Field != tt.field)) {
			t.Errorf("%v: %v, want field %q", tt.lines, err, tt.field)
		}
	}
}

func TestMergeAddsUpAProduct(t *testing.T) {
	got := inventory.Merge([]inventory.Need{{ProductID: "a", Quantity: 1}, {ProductID: "b", Quantity: 2}, {ProductID: "a", Quantity: 3}})
	if fmt.Sprint(got) != "[{a 4} {b 2}]" {
		t.Fatalf("Merge = %v", got)
	}
}

func TestPlanReservation(t *testing.T) {
	stock := map[string]inventory.Stock{
		"plenty":    {ProductID: "plenty", Tracked: true, Available: 5},
		"few":       {ProductID: "few", Tracked: true, Available: 1},
		"untracked": {ProductID: "untracked"},
		"gone":      {ProductID: "gone", Deleted: true},
		"gone2":     {ProductID: "gone2", Deleted: true, Tracked: true, Available: 9},
	}
	line := func(id string, q int) inventory.Need { return inventory.Need{ProductID: id, Quantity: q} }
	for name, c := range map[string]struct {
		lines []inventory.Need
		want  inventory.Plan
	}{
		"enough of a tracked product": {[]inventory.Need{line("plenty", 5)},
			inventory.Plan{Outcome: inventory.Reserved, Holds: []inventory.Hold{{ProductID: "plenty", Quantity: 5, Tracked: true}}}},
		"untracked and never announced are reservable": {[]inventory.Need{line("untracked", 100), line("unknown", 3)},
			inventory.Plan{Outcome: inventory.Reserved, Holds: []inventory.Hold{{ProductID: "untracked", Quantity: 100}, {ProductID: "unknown", Quantity: 3}}}},
		"one line short refuses them all": {[]inventory.Need{line("plenty", 1), line("few", 2)},
			inventory.Plan{Outcome: inventory.OutOfStock, Short: []string{"few"}}},
		"a deleted product": {[]inventory.Need{line("gone", 1)},
			inventory.Plan{Outcome: inventory.ProductUnavailable, Short: []string{"gone"}}},
		"deleted outweighs short, both named in line order": {[]inventory.Need{line("few", 2), line("plenty", 1), line("gone2", 1)},
			inventory.Plan{Outcome: inventory.ProductUnavailable, Short: []string{"few", "gone2"}}},
		"short after deleted stays unavailable": {[]inventory.Need{line("gone", 1), line("few", 3)},
			inventory.Plan{Outcome: inventory.ProductUnavailable, Short: []string{"gone", "few"}}},
		"exactly what is available": {[]inventory.Need{line("few", 1)},
			inventory.Plan{Outcome: inventory.Reserved, Holds: []inventory.Hold{{ProductID: "few", Quantity: 1, Tracked: true}}}},
	} {
		if got := inventory.PlanReservation(c.lines, stock); fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", c.want) {
			t.Errorf("%s: %+v, want %+v", name, got, c.want)
		}
	}
}
