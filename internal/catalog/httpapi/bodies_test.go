package httpapi

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/eventshop/eventshop/internal/catalog"
	"github.com/eventshop/eventshop/internal/money"
	"github.com/eventshop/eventshop/internal/rest"
)

func TestBodiesEncodeEachProductAsItIsNow(t *testing.T) {
	var c bodies
	p := catalog.Product{ID: "p1", Name: "Widget", Category: "Tools", Price: 1999, Version: 1}
	first := bodyOf(t, &c, p)
	if want, _ := rest.Encode(productOf(p)); !bytes.Equal(first, want) {
		t.Fatalf("body %s, want %s", first, want)
	}
	if again := bodyOf(t, &c, p); &again[0] != &first[0] {
		t.Error("an unchanged product was encoded again")
	}
	for _, changed := range []catalog.Product{
		{ID: "p1", Name: "Widget", Category: "Tools", Price: 2099, Version: 1},
		{ID: "p1", Name: "Widget", Category: "Tools", Price: 2099, Version: 2},
		{ID: "p1", Name: "Widget", Description: "new", Category: "Tools", Price: 2099, Version: 2},
	} {
		want, err := rest.Encode(productOf(changed))
		if err != nil {
			t.Fatal(err)
		}
		if got := bodyOf(t, &c, changed); !bytes.Equal(got, want) {
			t.Errorf("after a change: body %s, want %s", got, want)
		}
	}
	for i := range 2 * bodiesMax {
		bodyOf(t, &c, catalog.Product{ID: fmt.Sprint(i)})
	}
	if len(c.m) > bodiesMax {
		t.Errorf("%d bodies kept, at most %d", len(c.m), bodiesMax)
	}
}

func bodyOf(t *testing.T, c *bodies, p catalog.Product) []byte {
	t.Helper()
	b, err := c.of(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBodiesServeReadersAtOnce is for the race detector: readers of the same
// and of other products, one of them changing, at once.
func TestBodiesServeReadersAtOnce(t *testing.T) {
	var c bodies
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				p := catalog.Product{ID: fmt.Sprint(i % 3), Price: money.Cents(g*(i%2) + 1)}
				want, err := rest.Encode(productOf(p))
				if err != nil {
					t.Error(err)
					return
				}
				if got, err := c.of(p); err != nil || !bytes.Equal(got, want) {
					t.Errorf("body %s, %v; want %s", got, err, want)
					return
				}
			}
		})
	}
	wg.Wait()
}
