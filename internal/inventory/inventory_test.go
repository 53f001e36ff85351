package inventory_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/eventshop/eventshop/internal/inventory"
	"github.com/eventshop/eventshop/internal/validation"
)

func TestValidateLines(t *testing.T) {
	l := func(p string, q int) inventory.Line { return inventory.Line{ProductID: p, Quantity: q} }
	tests := []struct {
		lines []inventory.Line
		field string // "" when valid
	}{
		{[]inventory.Line{l("a", 1), l("b", inventory.MaxAvailable)}, ""},
		{nil, "lines"},
		{[]inventory.Line{l("a", 0)}, "lines[0].quantity"},
		{[]inventory.Line{l("a", inventory.MaxAvailable+1)}, "lines[0].quantity"},
		{[]inventory.Line{l("a/b", 1)}, "lines[0].productId"},
		{[]inventory.Line{l("a", 1), l("a", 2)}, "lines[1]"},
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
	got := inventory.Merge([]inventory.Line{{ProductID: "a", Quantity: 1}, {ProductID: "b", Quantity: 2}, {ProductID: "a", Quantity: 3}})
	if fmt.Sprint(got) != "[{a 4} {b 2}]" {
		t.Fatalf("Merge = %v", got)
	}
}
