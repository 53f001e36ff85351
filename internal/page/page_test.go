package page_test

import (
	"slices"
	"strconv"
	"testing"

	"github.com/eventshop/eventshop/internal/page"
)

func TestMapKeepsTheTokenAndTheOrder(t *testing.T) {
	got := page.Map(page.Of[int]{Items: []int{1, 2, 3}, NextToken: "t"}, func(i int) string { return strconv.Itoa(i * 2) })
	if !slices.Equal(got.Items, []string{"2", "4", "6"}) || got.NextToken != "t" {
		t.Errorf("Map = %+v", got)
	}
	if empty := page.Map(page.Of[int]{Items: []int{}}, strconv.Itoa); empty.Items == nil || len(empty.Items) != 0 {
		t.Errorf("Map of an empty list = %#v, want an empty list", empty.Items)
	}
	if none := page.Map(page.Of[int]{}, strconv.Itoa); none.Items != nil {
		t.Errorf("Map of no list = %#v, want none", none.Items)
	}
}
