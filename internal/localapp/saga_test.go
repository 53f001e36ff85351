package localapp_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/eventshop/eventshop/internal/basket"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/inventory"
	inventorysqlite "github.com/eventshop/eventshop/internal/inventory/sqlite"
	"github.com/eventshop/eventshop/internal/waittest"
)

// With the demo stock (25 of each product), an order that wants more is
// cancelled out of stock; one within it is reserved, and cancelling it gives
// the stock back.
func TestStockIsHeldAndGivenBack(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir, true)
	defer s.Stop()
	alice := s.as("alice", false)
	var phones list[product]
	s.anonymous().Want(200, "GET", "/product?category=Phone", "").Decode(t, &phones)
	phone := phones.Items[0].ID
	order := func(quantity int) string {
		body := fmt.Sprintf(`{"items":[{"productId":%q,"quantity":%d}]}`, phone, quantity)
		waittest.For(t, "the price view", func() bool { return alice.Do("POST", "/basket", body).Status == 200 })
		var co struct{ OrderID string }
		alice.Want(202, "POST", "/basket/checkout", `{`+buyer+`}`).Decode(t, &co)
		return co.OrderID
	}
	status := func(id, want string) {
		t.Helper()
		var o struct{ Status, CancelReason string }
		waittest.For(t, "order "+id+" to be "+want, func() bool {
			r := alice.Do("GET", "/order/alice/"+id, "")
			if r.Status != 200 {
				return false
			}
			r.Decode(t, &o)
			return o.Status == want
		})
	}
	tooMany := order(30)
	status(tooMany, "CANCELLED")
	held := order(20)
	status(held, "PAID")
	stock, err := inventorysqlite.Open(t.Context(), filepath.Join(dir, "inventory.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer stock.Close()
	if st, _ := stock.Get(t.Context(), phone); st.Available != 5 || st.Reserved != 20 {
		t.Fatalf("stock while held: %+v", st)
	}
	alice.Want(202, "POST", "/order/alice/"+held+"/cancel", "")
	waittest.For(t, "the stock to come back", func() bool {
		st, _ := stock.Get(t.Context(), phone)
		return st.Available == 25 && st.Reserved == 0
	})

	// The simulator declines the test method: the order is cancelled
	// payment_declined, and its stock comes back.
	body := fmt.Sprintf(`{"items":[{"productId":%q,"quantity":4}]}`, phone)
	alice.Want(200, "POST", "/basket", body)
	var co struct{ OrderID string }
	alice.Want(202, "POST", "/basket/checkout", `{"firstName":"Ada","lastName":"L","email":"a@b.c","address":"x","paymentMethod":"test-decline"}`).Decode(t, &co)
	status(co.OrderID, "CANCELLED")
	var declined struct{ CancelReason string }
	alice.Want(200, "GET", "/order/alice/"+co.OrderID, "").Decode(t, &declined)
	if declined.CancelReason != "payment_declined" {
		t.Fatalf("declined order: %+v", declined)
	}
	waittest.For(t, "the declined order's stock to come back", func() bool {
		st, _ := stock.Get(t.Context(), phone)
		return st.Available == 25 && st.Reserved == 0
	})
}

func TestSettingStock(t *testing.T) {
	s := start(t, t.TempDir(), false)
	defer s.Stop()
	admin := s.as("root", true)
	var p product
	admin.Want(201, "POST", "/product", `{"name":"Widget","category":"Tools","price":1}`).Decode(t, &p)
	s.anonymous().WantProblem(404, "GET", "/inventory/never-announced", "", "has not announced")
	waittest.For(t, "the inventory to know the product", func() bool { return s.anonymous().Do("GET", "/inventory/"+p.ID, "").Status == 200 })
	var public map[string]any
	s.anonymous().Want(200, "GET", "/inventory/"+p.ID, "").Decode(t, &public)
	if public["tracked"] != false || public["available"] != float64(0) || len(public) != 3 {
		t.Fatalf("public view of an untracked product: %v", public)
	}
	var st struct {
		Tracked             bool
		Available, Reserved int
		Version             int64
	}
	admin.Want(200, "PUT", "/inventory/"+p.ID, `{"available":7}`).Decode(t, &st)
	if !st.Tracked || st.Available != 7 || st.Version != 1 {
		t.Fatalf("after PUT: %+v", st)
	}
	admin.WantProblem(409, "PUT", "/inventory/"+p.ID, `{"available":8,"version":5}`, "changed by another request")
	admin.WantProblem(400, "PUT", "/inventory/"+p.ID, `{"available":-1}`, "available")
	admin.WantProblem(400, "PUT", "/inventory/"+p.ID, `{"available":1000001}`, "available")
	admin.WantProblem(400, "PUT", "/inventory/"+p.ID, `{}`, "available: is required")
	admin.Want(200, "GET", "/inventory/"+p.ID+"/admin", "").Decode(t, &st)
	if st.Available != 7 || st.Version != 1 {
		t.Fatalf("admin view: %+v", st)
	}

	adjust := "/inventory/" + p.ID + "/adjustments"
	admin.Want(200, "POST", adjust, `{"delta":-3,"reason":"3 broken in the stockroom"}`).Decode(t, &st)
	if st.Available != 4 || st.Version != 2 {
		t.Fatalf("after -3: %+v", st)
	}
	admin.WantProblem(422, "POST", adjust, `{"delta":-5,"reason":"count"}`, "below 0")
	admin.WantProblem(400, "POST", adjust, `{"delta":0,"reason":"count"}`, "delta")
	admin.WantProblem(400, "POST", adjust, `{"reason":"count"}`, "delta: is required")
	admin.WantProblem(400, "POST", adjust, `{"delta":2}`, "reason")
	admin.WantProblem(400, "POST", adjust, `{"delta":2,"reason":"`+strings.Repeat("x", 201)+`"}`, "reason")
	admin.WantProblem(400, "POST", adjust, `{"delta":2,"reason":"count","version":2}`, "version")
	admin.WantProblem(404, "POST", "/inventory/never-announced/adjustments", `{"delta":2,"reason":"count"}`, "has not announced")
	var q product
	admin.Want(201, "POST", "/product", `{"name":"Gadget","category":"Tools","price":1}`).Decode(t, &q)
	waittest.For(t, "the inventory to know the other product", func() bool { return s.anonymous().Do("GET", "/inventory/"+q.ID, "").Status == 200 })
	admin.WantProblem(422, "POST", "/inventory/"+q.ID+"/adjustments", `{"delta":2,"reason":"count"}`, "not tracked")
	admin.Want(200, "GET", "/inventory/"+p.ID+"/admin", "").Decode(t, &st)
	if st.Available != 4 || st.Version != 2 {
		t.Fatalf("refused adjustments changed the stock: %+v", st)
	}
}

// 50 buyers check out one unit each of a product with 10 in stock, at once:
// exactly 10 orders hold stock (and go on to be paid), 40 are cancelled out
// of stock, and the stock ends at 0 available, 10 held.
func TestNoOversellingOverHTTP(t *testing.T) {
	s := start(t, t.TempDir(), false)
	defer s.Stop()
	admin := s.as("root", true)
	var p product
	admin.Want(201, "POST", "/product", `{"name":"Scarce","category":"Tools","price":5}`).Decode(t, &p)
	waittest.For(t, "the inventory to know the product", func() bool { return admin.Do("PUT", "/inventory/"+p.ID, `{"available":10}`).Status == 200 })
	fill := `{"items":[{"productId":"` + p.ID + `","quantity":1}]}`
	buyers := make([]client, 50)
	for i := range buyers {
		buyers[i] = s.as(fmt.Sprintf("buyer%d", i), false)
		waittest.For(t, "the price view", func() bool { return buyers[i].Do("POST", "/basket", fill).Status == 200 })
	}
	ids := make([]string, len(buyers))
	var wg sync.WaitGroup
	for i, b := range buyers {
		wg.Go(func() {
			var co struct{ OrderID string }
			r := b.Do("POST", "/basket/checkout", `{`+buyer+`}`)
			if r.Status == 202 {
				r.Decode(t, &co)
			}
			ids[i] = co.OrderID
		})
	}
	wg.Wait()
	counts := map[string]int{}
	for i, id := range ids {
		if id == "" {
			t.Fatalf("buyer %d's checkout failed", i)
		}
		var o struct{ Status, CancelReason string }
		// Fifty sagas run at once: on a busy machine the first to settle
		// may wait for most of the others.
		waittest.Within(t, time.Minute, "order "+id+" to settle", func() bool {
			r := buyers[i].Do("GET", fmt.Sprintf("/order/buyer%d/%s", i, id), "")
			if r.Status != 200 {
				return false
			}
			r.Decode(t, &o)
			return o.Status == "PAID" || o.Status == "CANCELLED"
		})
		counts[o.Status+" "+o.CancelReason]++
	}
	if counts["PAID "] != 10 || counts["CANCELLED out_of_stock"] != 40 {
		t.Fatalf("orders %v, want 10 paid and 40 cancelled out of stock", counts)
	}
	var st struct{ Available, Reserved int }
	admin.Want(200, "GET", "/inventory/"+p.ID+"/admin", "").Decode(t, &st)
	if st.Available != 0 || st.Reserved != 10 {
		t.Fatalf("stock %+v, want 0 available and 10 held", st)
	}
}

// A shop stopped while its saga is under way finishes it after a restart on
// the same data: nothing in flight is lost.
func TestSagaCompletesAfterARestart(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir, true)
	alice := s.as("alice", false)
	var phones list[product]
	s.anonymous().Want(200, "GET", "/product?category=Phone", "").Decode(t, &phones)
	body := `{"items":[{"productId":"` + phones.Items[0].ID + `","quantity":2}]}`
	waittest.For(t, "the price view", func() bool { return alice.Do("POST", "/basket", body).Status == 200 })
	var co struct{ OrderID string }
	alice.Want(202, "POST", "/basket/checkout", `{`+buyer+`}`).Decode(t, &co)
	s.Stop() // at once: the checkout's event and the saga's are on their way
	s = start(t, dir, true)
	defer s.Stop()
	alice = s.as("alice", false)
	waittest.For(t, "the order to be paid after the restart", func() bool {
		r := alice.Do("GET", "/order/alice/"+co.OrderID, "")
		return r.Status == 200 && strings.Contains(string(r.Body), `"status":"PAID"`)
	})
	var st struct{ Available, Reserved int }
	s.as("root", true).Want(200, "GET", "/inventory/"+phones.Items[0].ID+"/admin", "").Decode(t, &st)
	if st.Available != 23 || st.Reserved != 2 {
		t.Fatalf("stock after the restart: %+v, want 23 available and 2 held", st)
	}
}

// A checkout that raced a product's deletion (the basket's view had not
// heard of it yet; the inventory has) ends CANCELLED product_unavailable. The
// checkout is sent to the bus as the basket would have sent it.
func TestProductDeletedBeforeTheReservation(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir, false)
	defer s.Stop()
	admin, alice := s.as("root", true), s.as("alice", false)
	var p product
	admin.Want(201, "POST", "/product", `{"name":"Doomed","category":"Tools","price":3}`).Decode(t, &p)
	admin.Want(204, "DELETE", "/product/"+p.ID, "")
	waittest.For(t, "the inventory to know of the deletion", func() bool {
		r := admin.Do("GET", "/inventory/"+p.ID+"/admin", "")
		return r.Status == 200 && strings.Contains(string(r.Body), `"deleted":true`)
	})
	id, _ := uuid.NewV7()
	checkout, err := events.New(context.Background(), events.SourceCheckout, events.TypeCheckoutBasket, events.CheckoutBasket{
		CheckoutID: id.String(), UserName: "alice", FirstName: "Ada", LastName: "L", Email: "a@b.c", Address: "x", PaymentMethod: "invoice",
		Lines:      []events.CheckoutLine{{ProductID: p.ID, ProductName: "Doomed", Quantity: 1, UnitPrice: 300, LineTotal: 300}},
		TotalPrice: 300, CheckedOutAt: time.Now(),
	}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.App.Bus().Publish(t.Context(), []events.Outgoing{checkout}); err != nil {
		t.Fatal(err)
	}
	var o struct{ Status, CancelReason string }
	waittest.For(t, "the order to be cancelled", func() bool {
		r := alice.Do("GET", "/order/alice/"+id.String(), "")
		if r.Status != 200 {
			return false
		}
		r.Decode(t, &o)
		return o.Status == "CANCELLED"
	})
	if o.CancelReason != "product_unavailable" {
		t.Fatalf("order %+v, want product_unavailable", o)
	}
}

// An order holds a basket's products (its lines, colours merged), and a
// reservation on DynamoDB takes them all in one transaction of at most
// inventory.MaxLines products: no basket may hold an order the inventory
// could not reserve, and the basket's own limit (a 400 naming it) is what
// refuses a larger one before any checkout.
func TestABasketFitsInOneReservation(t *testing.T) {
	if basket.MaxLines > inventory.MaxLines {
		t.Fatalf("a basket holds up to %d lines; a reservation takes at most %d products", basket.MaxLines, inventory.MaxLines)
	}
}
