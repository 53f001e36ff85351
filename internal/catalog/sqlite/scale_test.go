package sqlite_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/eventshop/eventshop/internal/catalog"
	"github.com/eventshop/eventshop/internal/catalog/sqlite"
	"github.com/eventshop/eventshop/internal/money"
	"github.com/eventshop/eventshop/internal/page"
)

// categories is how many categories the seeded catalogs spread over: the
// smallest has 100 products in each, five pages.
const categories = 10

// seeded opens a catalog of n products in 10 categories (sqlite.Seed: n
// creates through the store would each wait for a commit).
func seeded(b *testing.B, n int) *sqlite.Store {
	path := filepath.Join(b.TempDir(), "catalog.db")
	err := sqlite.Seed(b.Context(), path, n, func(i int) catalog.Product {
		return catalog.Product{ID: fmt.Sprintf("%08x-0000-4000-8000-000000000000", i), Name: fmt.Sprintf("Product %d", i),
			Description: "A product of the seeded catalog, described in a sentence or two.", ImageFile: "p.png",
			Category: fmt.Sprintf("Category %d", i%categories), Price: money.Cents(100 + i%10_000), Version: 1}
	})
	if err != nil {
		b.Fatal(err)
	}
	s, err := sqlite.Open(b.Context(), path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkCategoryPage reads a page of 20 of one category, the first and
// the fifth, from catalogs of 1,000 to 100,000 products: the time per
// page stays flat as the catalog grows, because the category index is read
// from the page's cursor on, never the table. Each read is from the
// database: the store's cache is dropped before it.
func BenchmarkCategoryPage(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		s := seeded(b, n)
		req := page.Request{Limit: 20}
		for range 4 {
			res, err := s.ListByCategory(b.Context(), "Category 7", req)
			if err != nil || res.NextToken == "" {
				b.Fatalf("paging to the fifth page: %q, %v", res.NextToken, err)
			}
			req.Token = res.NextToken
		}
		fifth := req
		for _, at := range []struct {
			name string
			req  page.Request
		}{{"first", page.Request{Limit: 20}}, {"fifth", fifth}} {
			b.Run(fmt.Sprintf("products=%d/page=%s", n, at.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					s.Forget()
					res, err := s.ListByCategory(b.Context(), "Category 7", at.req)
					if err != nil || len(res.Items) == 0 {
						b.Fatalf("%d items, %v", len(res.Items), err)
					}
				}
			})
		}
	}
}
