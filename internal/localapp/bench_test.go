package localapp_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventshop/eventshop/internal/sqlitedb"
	"github.com/eventshop/eventshop/internal/waittest"
)

// The benchmarks drive the whole local app's handler in-process (no network),
// with real SQLite stores on disk: what one request costs the shop.

func benchShop(b *testing.B, products int) (*shop, client, client, []string) {
	return benchShopWith(b, products, false)
}

func benchShopWith(b *testing.B, products int, untraced bool) (*shop, client, client, []string) {
	s := startWith(b, b.TempDir(), false, untraced)
	b.Cleanup(s.Stop)
	admin, alice := s.as("root", true), s.as("alice", false)
	var ids []string
	for i := range products {
		var p product
		admin.Want(201, "POST", "/product", fmt.Sprintf(`{"name":"P%d","category":"C%d","price":%d.99}`, i, i%4, i+1)).Decode(b, &p)
		ids = append(ids, p.ID)
	}
	items := make([]string, 0, 10)
	for _, id := range ids[:min(10, len(ids))] {
		items = append(items, `{"productId":"`+id+`","quantity":2}`)
	}
	body := `{"items":[` + strings.Join(items, ",") + `]}`
	waittest.For(b, "the price view", func() bool { return alice.Do("POST", "/basket", body).Status == 200 })
	return s, admin, alice, ids
}

// serve serves one request in-process through s, failing b unless it
// answers status.
func (s *shop) serve(b *testing.B, c client, status int, method, path, body string) {
	if code, answer := c.Serve(s.App.Handler(), method, path, body); code != status {
		b.Fatalf("%s %s → %d %s", method, path, code, answer)
	}
}

// BenchmarkGetProduct reads one product, each request a span (as served),
// and untraced: the difference is what tracing costs a read.
func BenchmarkGetProduct(b *testing.B) {
	for _, untraced := range []bool{false, true} {
		b.Run(map[bool]string{false: "traced", true: "untraced"}[untraced], func(b *testing.B) {
			s, _, _, ids := benchShopWith(b, 100, untraced)
			anon := s.anonymous()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				s.serve(b, anon, 200, "GET", "/product/"+ids[i%len(ids)], "")
			}
		})
	}
}

func BenchmarkListProductsByCategory(b *testing.B) {
	s, _, _, _ := benchShop(b, 100)
	anon := s.anonymous()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s.serve(b, anon, 200, "GET", "/product?category=C1&limit=20", "")
	}
}

// BenchmarkReplaceBasket writes a ten-line basket priced from the view, with
// token verification: the hottest write a shopper makes.
func BenchmarkReplaceBasket(b *testing.B) {
	s, _, alice, ids := benchShop(b, 10)
	items := make([]string, len(ids))
	for i, id := range ids {
		items[i] = `{"productId":"` + id + `","quantity":3,"color":"red"}`
	}
	body := `{"items":[` + strings.Join(items, ",") + `]}`
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s.serve(b, alice, 200, "POST", "/basket", body)
	}
}

// BenchmarkCheckoutToOrder measures a checkout until its order is readable:
// the outbox, the relay, the bus and the ordering consumer included.
func BenchmarkCheckoutToOrder(b *testing.B) {
	s, _, alice, ids := benchShop(b, 3)
	fill := `{"items":[{"productId":"` + ids[0] + `","quantity":1},{"productId":"` + ids[1] + `","quantity":2}]}`
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s.serve(b, alice, 200, "POST", "/basket", fill)
		var co struct{ OrderID string }
		alice.Want(202, "POST", "/basket/checkout", `{`+buyer+`}`).Decode(b, &co)
		// Read the order, waiting for it (Prefer: wait): the wait is what
		// this benchmark measures.
		s.serve(b, alice.With("Prefer", "wait=5"), 200, "GET", "/order/alice/"+co.OrderID, "")
	}
}

// BenchmarkPairs has 32 users at once each write a basket and check it out,
// and stops the clock when every order made has been paid: the requests and
// the whole saga behind them (stock, payment, status changes), as the load
// test's pairs/s figure drives them, without the network.
func BenchmarkPairs(b *testing.B) {
	s, _, _, ids := benchShop(b, 3)
	fill := `{"items":[{"productId":"` + ids[0] + `","quantity":1},{"productId":"` + ids[1] + `","quantity":2}]}`
	type placed struct {
		id, user string
		as       client
	}
	var (
		users  atomic.Int64
		mu     sync.Mutex
		orders []placed
	)
	b.ReportAllocs()
	b.SetParallelism(16) // 32 users on two cores
	b.ResetTimer()
	start := time.Now()
	commits := sqlitedb.CommitsByDatabase()
	b.RunParallel(func(pb *testing.PB) {
		name := fmt.Sprintf("user%d", users.Add(1))
		user := s.as(name, false)
		for pb.Next() {
			if status, body := user.Serve(s.App.Handler(), "POST", "/basket", fill); status != 200 {
				b.Errorf("basket write → %d %s", status, body)
				return
			}
			status, body := user.Serve(s.App.Handler(), "POST", "/basket/checkout", `{`+buyer+`}`)
			var co struct{ OrderID string }
			if status != 202 || json.Unmarshal(body, &co) != nil {
				b.Errorf("checkout → %d %s", status, body)
				return
			}
			mu.Lock()
			orders = append(orders, placed{co.OrderID, name, user})
			mu.Unlock()
		}
	})
	for _, o := range orders {
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Millisecond) {
			var got struct{ Status string }
			status, body := o.as.Serve(s.App.Handler(), "GET", "/order/"+o.user+"/"+o.id, "")
			if status == 200 && json.Unmarshal(body, &got) == nil && got.Status == "PAID" {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("order %s not paid after 30 s: %d %s", o.id, status, body)
			}
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "pairs/s")
	var all int64
	for db, n := range sqlitedb.CommitsByDatabase() {
		all += n - commits[db]
		b.ReportMetric(float64(n-commits[db])/float64(b.N), db+"-commits/op")
	}
	b.ReportMetric(float64(all)/float64(b.N), "commits/op")
}
