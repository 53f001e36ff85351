package localapp_test

import (
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	inventoryapp "github.com/eventshop/eventshop/internal/inventory/app"
	inventorysqlite "github.com/eventshop/eventshop/internal/inventory/sqlite"
	"github.com/eventshop/eventshop/internal/localapp"
	"github.com/eventshop/eventshop/internal/waittest"
)

func TestShopEndToEnd(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir, false)
	// step runs one part of the story as a subtest, with the callers failing
	// it; the rest of the story needs it, so a failed step ends the test.
	step := func(name string, f func(t *testing.T, admin, alice, carol client)) {
		t.Helper()
		if !t.Run(name, func(t *testing.T) {
			f(t, s.as("root", true).On(t), s.as("alice", false).On(t), s.as("carol", false).On(t))
		}) {
			t.FailNow()
		}
	}
	var (
		widget, gadget product
		co             struct{ OrderID string }
	)
	step("the catalog takes products and refuses bad ones, naming the field", func(t *testing.T, admin, _, _ client) {
		// Catalog.
		r := admin.Want(201, "POST", "/product", `{"name":"Widget","category":"Tools","price":19.99,"description":"w","imageFile":"w.png"}`)
		r.Decode(t, &widget)
		if loc := r.Header.Get("Location"); loc != "/product/"+widget.ID {
			t.Fatalf("Location = %q", loc)
		}
		admin.Want(201, "POST", "/product", `{"name":"Gadget","category":"Toys","price":5}`).Decode(t, &gadget)
		if string(widget.Price) != "19.99" || string(gadget.Price) != "5.00" {
			t.Fatalf("prices %s, %s", widget.Price, gadget.Price)
		}
		var tools list[product]
		admin.Want(200, "GET", "/product?category=Tools", "").Decode(t, &tools)
		if len(tools.Items) != 1 || tools.Items[0].ID != widget.ID {
			t.Fatalf("category Tools = %+v", tools.Items)
		}
		admin.WantProblem(400, "POST", "/product", `{"name":"X","category":"Toys","price":1.999}`, "price")
		admin.WantProblem(400, "POST", "/product", `{"name":"X","category":"Toys","price":0}`, "price")
		admin.WantProblem(400, "POST", "/product", `{"name":"X","category":"Toys","price":1000000.01}`, "price")
		admin.WantProblem(400, "POST", "/product", `{"name":"X","category":"Toys","price":1,"colour":"red"}`, "colour")
		admin.WantProblem(400, "POST", "/product", `{"name":`, "JSON")
		admin.WantProblem(413, "POST", "/product", `{"name":"`+strings.Repeat("x", 1<<20)+`"}`, "1 MiB")
		admin.WantProblem(404, "GET", "/product/no-such-id", "", "not found")
		admin.WantProblem(409, "PUT", "/product/"+widget.ID, `{"name":"Widget","category":"Tools","price":19.99,"version":7}`, "changed")
	})
	step("a basket is priced by the server", func(t *testing.T, _, alice, _ client) {
		// Basket: priced by the server from the view, whatever the client sends.
		basket := `{"userName":"alice","items":[{"productId":"` + widget.ID + `","quantity":3,"color":"red","price":0.01,"productName":"cheap"},{"productId":"` + gadget.ID + `","quantity":2}]}`
		waittest.For(t, "the price view to learn both products", func() bool { return alice.Do("POST", "/basket", basket).Status == 200 })
		var b basketResp
		alice.Want(200, "GET", "/basket/alice", "").Decode(t, &b)
		if string(b.TotalPrice) != "69.97" || string(b.Items[0].LineTotal) != "59.97" || b.Items[0].ProductName != "Widget" || string(b.Items[0].UnitPrice) != "19.99" {
			t.Fatalf("priced basket = %+v, want 3 × 19.99 = 59.97 and total 69.97", b)
		}
		alice.WantProblem(422, "POST", "/basket", `{"userName":"alice","items":[{"productId":"unknown-product","quantity":1}]}`, "unknown-product")
		alice.WantProblem(400, "POST", "/basket", `{"userName":"alice","items":[{"productId":"`+widget.ID+`","quantity":100}]}`, "quantity")
		s.As(t, "nobody", false).Want(200, "GET", "/basket/nobody", "")
	})
	step("a checkout is made once, whatever is retried", func(t *testing.T, _, alice, _ client) {
		// Checkout: card data refused, empty baskets refused; a retry under the same
		// Idempotency-Key gets the first answer, a changed body under it a 422, and a
		// checkout without a key of the emptied basket a 422.
		alice.WantProblem(400, "POST", "/basket/checkout", `{"userName":"alice",`+buyer+`,"cardInfo":{"number":"4111111111111111"}}`, "card")
		s.As(t, "bob", false).WantProblem(422, "POST", "/basket/checkout", `{"userName":"bob",`+buyer+`}`, "empty")
		var retry struct{ OrderID string }
		keyed := alice.With("Idempotency-Key", "checkout-1")
		first := keyed.Want(202, "POST", "/basket/checkout", `{"userName":"alice",`+buyer+`}`)
		first.Decode(t, &co)
		again := keyed.Want(202, "POST", "/basket/checkout", `{"userName":"alice",`+buyer+`}`)
		again.Decode(t, &retry)
		if co.OrderID == "" || retry.OrderID != co.OrderID || again.Header.Get("Idempotent-Replayed") != "true" || first.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("checkout ids %q and retry %q (replayed %q), want the same, replayed", co.OrderID, retry.OrderID, again.Header.Get("Idempotent-Replayed"))
		}
		keyed.WantProblem(422, "POST", "/basket/checkout", `{"userName":"alice",`+strings.Replace(buyer, "Ada", "Grace", 1)+`}`, "different request")
		alice.WantProblem(422, "POST", "/basket/checkout", `{"userName":"alice",`+buyer+`}`, "empty")
		s.As(t, "carol", false).With("Idempotency-Key", "checkout-1").WantProblem(422, "POST", "/basket/checkout", `{"userName":"carol",`+buyer+`}`, "empty")
		alice.With("Idempotency-Key", "bad key").WantProblem(400, "POST", "/basket/checkout", `{"userName":"alice",`+buyer+`}`, "Idempotency-Key")
		var b basketResp
		alice.Want(200, "GET", "/basket/alice", "").Decode(t, &b)
		if len(b.Items) != 0 {
			t.Fatalf("basket after checkout = %+v, want empty", b)
		}
	})
	step("the order is placed, reserved and paid", func(t *testing.T, _, alice, _ client) {
		// The order appears: a read that asks to wait (Prefer: wait, RFC 7240)
		// is answered once it is placed.
		var o order
		alice.With("Prefer", "wait=5").Want(200, "GET", "/order/alice/"+co.OrderID, "").Decode(t, &o)
		if string(o.TotalPrice) != "69.97" || len(o.Lines) != 2 || o.UserName != "alice" || o.OrderDate.IsZero() {
			t.Fatalf("order = %+v", o)
		}
		// The saga: the inventory holds its stock (untracked products are always
		// reservable), the simulated provider takes the payment.
		var saga struct {
			Status, CancelReason string
			History              []struct{ Status, Reason string }
		}
		waittest.For(t, "the order to be paid", func() bool {
			alice.Want(200, "GET", "/order/alice/"+co.OrderID, "").Decode(t, &saga)
			return saga.Status == "PAID"
		})
		if len(saga.History) != 3 || saga.History[1].Status != "RESERVED" {
			t.Fatalf("history %+v", saga.History)
		}
	})
	step("its owner cancels it once, and the payment comes back", func(t *testing.T, admin, alice, _ client) {
		// Its owner cancels it, once; the payment comes back.
		var saga struct {
			Status, CancelReason string
			History              []struct{ Status, Reason string }
		}
		alice.Want(202, "POST", "/order/alice/"+co.OrderID+"/cancel", "").Decode(t, &saga)
		if saga.Status != "CANCELLED" || saga.CancelReason != "customer_cancelled" || len(saga.History) != 4 || saga.History[3].Reason != "customer_cancelled" {
			t.Fatalf("cancelled order = %+v", saga)
		}
		alice.WantProblem(409, "POST", "/order/alice/"+co.OrderID+"/cancel", "", "is CANCELLED")
		admin.WantProblem(409, "POST", "/order/alice/"+co.OrderID+"/ship", "", "cannot become SHIPPED")
		waittest.For(t, "the refund in the order's history", func() bool {
			alice.Want(200, "GET", "/order/alice/"+co.OrderID, "").Decode(t, &saga)
			return len(saga.History) == 5 && saga.History[4].Status == "REFUNDED"
		})
	})
	step("a deleted product makes a checkout fail, naming it", func(t *testing.T, admin, _, carol client) {
		// A deleted product makes checkout fail, naming it.
		carol.Want(200, "POST", "/basket", `{"userName":"carol","items":[{"productId":"`+gadget.ID+`","quantity":1}]}`)
		admin.Want(204, "DELETE", "/product/"+gadget.ID, "")
		waittest.For(t, "the view to drop the deleted product", func() bool {
			var line struct {
				Items []struct{ Unavailable bool } `json:"items"`
			}
			carol.Want(200, "GET", "/basket/carol", "").Decode(t, &line)
			return line.Items[0].Unavailable
		})
		carol.WantProblem(422, "POST", "/basket/checkout", `{"userName":"carol",`+buyer+`}`, gadget.ID)
	})
	step("after a restart on the same data nothing is lost or doubled", func(t *testing.T, _, _, _ client) {
		// Restart on the same data: everything is still there, nothing is duplicated.
		s.Stop()
		s = start(t, dir, false)
		defer s.Stop()
		admin, alice, carol := s.As(t, "root", true), s.As(t, "alice", false), s.As(t, "carol", false)
		s.WaitIdle(t) // what was in flight at the stop has come again, and been handled
		var orders list[order]
		alice.Want(200, "GET", "/order/alice", "").Decode(t, &orders)
		if len(orders.Items) != 1 || orders.Items[0].OrderID != co.OrderID {
			t.Fatalf("orders after restart = %+v, want exactly %s", orders.Items, co.OrderID)
		}
		for status, want := range map[string]int{"": 1, "CANCELLED": 1, "PAID": 0} {
			admin.Want(200, "GET", "/order?status="+status, "").Decode(t, &orders)
			if len(orders.Items) != want || (want == 1 && orders.Items[0].OrderID != co.OrderID) {
				t.Fatalf("the admin's orders in status %q = %+v, want %d", status, orders.Items, want)
			}
		}
		var all list[product]
		admin.Want(200, "GET", "/product", "").Decode(t, &all)
		if len(all.Items) != 1 || all.Items[0].ID != widget.ID {
			t.Fatalf("products after restart = %+v, want only the widget", all.Items)
		}
		var b basketResp
		carol.Want(200, "GET", "/basket/carol", "").Decode(t, &b)
		if len(b.Items) != 1 {
			t.Fatalf("carol's basket after restart = %+v", b)
		}
		for _, q := range []string{"basket-price-view", "ordering-checkout", "basket-price-view-dlq", "ordering-checkout-dlq"} {
			if n, err := s.App.Bus().Depth(t.Context(), q); err != nil || n != 0 {
				t.Errorf("queue %s holds %d messages (%v) at rest, want 0", q, n, err)
			}
		}
	})
}

func TestDemoCatalogLoadsOnce(t *testing.T) {
	dir := t.TempDir()
	count := func(s *shop) int {
		var l list[product]
		s.anonymous().Want(200, "GET", "/product?limit=100", "").Decode(t, &l)
		return len(l.Items)
	}
	s := start(t, dir, true)
	first := count(s)
	if first < 12 {
		t.Fatalf("demo catalog has %d products, want at least 12", first)
	}
	var phones list[product]
	s.anonymous().Want(200, "GET", "/product?category=Phone", "").Decode(t, &phones)
	if len(phones.Items) == 0 {
		t.Fatal("no demo phones")
	}
	// The demo products' events reach the basket's price view like any write.
	body, _ := json.Marshal(map[string]any{"userName": "demo", "items": []map[string]any{{"productId": phones.Items[0].ID, "quantity": 1}}})
	waittest.For(t, "demo products in the price view", func() bool { return s.as("demo", false).Do("POST", "/basket", string(body)).Status == 200 })
	s.Stop()
	// Every demo product has its demo stock; the inventory knows the products
	// from the catalog's events too.
	stock, err := inventorysqlite.Open(t.Context(), filepath.Join(dir, "inventory.db"))
	if err != nil {
		t.Fatal(err)
	}
	var all list[product]
	s = start(t, dir, true)
	s.anonymous().Want(200, "GET", "/product?limit=100", "").Decode(t, &all)
	for _, p := range all.Items {
		st, err := stock.Get(t.Context(), p.ID)
		if err != nil || !st.Tracked || st.Available != inventoryapp.DemoStock || st.CatalogVersion != p.Version {
			t.Fatalf("stock of demo product %s: %+v, %v", p.ID, st, err)
		}
	}
	stock.Close()
	s.Stop()
	s = start(t, dir, true)
	defer s.Stop()
	if again := count(s); again != first {
		t.Fatalf("restart with --demo: %d products, want %d", again, first)
	}
}

// A product the catalog creates reaches the inventory by its event.
func TestInventoryLearnsProducts(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir, false)
	var p product
	s.as("root", true).Want(201, "POST", "/product", `{"name":"Widget","category":"Tools","price":1}`).Decode(t, &p)
	stock, err := inventorysqlite.Open(t.Context(), filepath.Join(dir, "inventory.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer stock.Close()
	waittest.For(t, "the inventory to know the product", func() bool {
		st, err := stock.Get(t.Context(), p.ID)
		return err == nil && st.CatalogVersion == 1 && !st.Tracked
	})
	s.as("root", true).Want(204, "DELETE", "/product/"+p.ID, "")
	waittest.For(t, "the inventory to know of the deletion", func() bool {
		st, err := stock.Get(t.Context(), p.ID)
		return err == nil && st.Deleted
	})
	s.Stop()
}

func TestOneShopPerDataDir(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir, false)
	_, err := localapp.Open(t.Context(), localapp.Config{DataDir: dir}, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second Open on a data dir in use: %v", err)
	}
	s.Stop()
	second := start(t, dir, false) // released on Close
	second.Stop()
}

// Idle means the work is done: a checkout's whole saga has run by the time
// the shop says it is idle, without waiting for any of its steps.
func TestIdleMeansTheSagaHasRun(t *testing.T) {
	s := start(t, t.TempDir(), true)
	defer s.Stop()
	alice := s.as("alice", false)
	var phones list[product]
	s.anonymous().Want(200, "GET", "/product?category=Phone", "").Decode(t, &phones)
	body := `{"items":[{"productId":"` + phones.Items[0].ID + `","quantity":1}]}`
	waittest.For(t, "the price view", func() bool { return alice.Do("POST", "/basket", body).Status == 200 })
	var co struct{ OrderID string }
	alice.Want(202, "POST", "/basket/checkout", `{`+buyer+`}`).Decode(t, &co)
	s.WaitIdle(t)
	var o order
	alice.Want(200, "GET", "/order/alice/"+co.OrderID, "").Decode(t, &o)
	if o.Status != "PAID" {
		t.Fatalf("the shop is idle with the order %s", o.Status)
	}
}
