package dynamo

import (
	"slices"
	"testing"

	"github.com/eventshop/eventshop/internal/ordering"
	"github.com/eventshop/eventshop/internal/page"
)

// A partition that stopped short of the page (DynamoDB stops a query at
// 1 MB) bounds the page: no order older than its last one is listed before
// the rest of that partition is read.
func TestMergeStopsWhereAPartitionStoppedShort(t *testing.T) {
	orders := func(ids ...string) []ordering.Order {
		out := make([]ordering.Order, len(ids))
		for i, id := range ids {
			out[i] = ordering.Order{OrderID: id}
		}
		return out
	}
	ids := func(p page.Of[ordering.Order]) []string {
		var out []string
		for _, o := range p.Items {
			out = append(out, o.OrderID)
		}
		return out
	}
	for _, c := range []struct {
		name  string
		parts []partition
		limit int
		want  []string
		more  bool
	}{
		{"all read", []partition{{orders: orders("9", "5", "1")}, {orders: orders("8", "2")}}, 10, []string{"9", "8", "5", "2", "1"}, false},
		{"page full", []partition{{orders: orders("9", "5", "1")}, {orders: orders("8", "2")}}, 3, []string{"9", "8", "5"}, true},
		{"stopped short", []partition{{orders: orders("9", "5", "1")}, {orders: orders("8", "6"), more: true}}, 10, []string{"9", "8", "6"}, true},
		{"one more than a page", []partition{{orders: orders("9", "5", "1"), more: true}}, 2, []string{"9", "5"}, true},
		{"seen twice", []partition{{orders: orders("9", "5")}, {orders: orders("5")}}, 10, []string{"9", "5"}, false},
		{"nothing", []partition{{}, {}}, 10, nil, false},
	} {
		got := merge(c.parts, c.limit)
		if !slices.Equal(ids(got), c.want) || (got.NextToken != "") != c.more {
			t.Errorf("%s: %v (token %q), want %v (more %v)", c.name, ids(got), got.NextToken, c.want, c.more)
		}
	}
}
