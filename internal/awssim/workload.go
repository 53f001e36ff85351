package awssim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/eventshop/eventshop/internal/events"
	inventorydynamo "github.com/eventshop/eventshop/internal/inventory/dynamo"
	inventorywire "github.com/eventshop/eventshop/internal/inventory/wire"
)

// workload is the shoppers and the admin: what they do and what they were
// told (accepted checkouts, the stock they set).
type workload struct {
	s        *Sim
	left     int
	users    []string
	products []*product
	accepted []checkout
	supply   map[string]int // what the admin brought in, per tracked product
	deleted  bool
	stock    *inventorydynamo.Store // the harness's own reads
	busy     bool                   // an action is under way: one at a time
}

type product struct {
	id, name string
	gone     bool
}

// checkout is one the shop accepted (202).
type checkout struct {
	orderID, user, method string
}

func newWorkload(s *Sim) *workload {
	w := &workload{s: s, left: s.cfg.Actions, supply: map[string]int{},
		stock: inventorydynamo.New(s.db, s.tables[inventorywire.StockTable], s.tables[inventorywire.ReservationTable])}
	for i := range s.cfg.Users {
		w.users = append(w.users, fmt.Sprintf("shopper%d", i))
	}
	return w
}

var admin = map[string]string{"sub": "s-root", "cognito:username": "root", "cognito:groups": "[admin]"}

func claims(user string) map[string]string {
	return map[string]string{"sub": "s-" + user, "cognito:username": user}
}

// done says whether the workload is over: its actions made, and the
// run's deployment, if any, ended.
func (w *workload) done() bool {
	return w.left <= 0 && (w.s.deploying == nil || w.s.deploying.over())
}

// setUp creates the products, without faults.
func (w *workload) setUp(ctx context.Context) error {
	s := w.s
	s.quiet = true
	defer func() { s.quiet = false }()
	for i := range s.cfg.Products {
		name := fmt.Sprintf("Product %d", i)
		body := fmt.Sprintf(`{"name":%q,"category":"Things","price":%d.%02d}`, name, 1+s.rand.IntN(50), s.rand.IntN(100))
		status, resp := s.api(ctx, events.ServiceCatalog, "POST", "/product", body, admin, nil)
		var p struct{ ID string }
		if status != http.StatusCreated || json.Unmarshal([]byte(resp), &p) != nil {
			return fmt.Errorf("create %s: %d %s", name, status, resp)
		}
		w.products = append(w.products, &product{id: p.ID, name: name})
	}
	return nil
}

// act makes the workload's next request.
func (w *workload) act(ctx context.Context) {
	w.left--
	s := w.s
	w.busy = true
	defer func() { w.busy = false }()
	switch n := s.rand.IntN(100); {
	case n < 28:
		w.fill(ctx)
	case n < 50:
		w.checkout(ctx)
	case n < 58:
		w.cancel(ctx)
	case n < 68:
		w.ship(ctx)
	case n < 74:
		w.reprice(ctx)
	case n < 86:
		w.alone(ctx, w.setStock)
	case n < 98:
		w.alone(ctx, w.adjust)
	default:
		w.delete(ctx)
	}
}

// alone runs an admin's stock change with nothing else going on (the
// other invocations' calls stay parked): ledger reads what it changed
// before and after it.
func (w *workload) alone(ctx context.Context, change func(context.Context)) {
	if t := taskOf(ctx); t != nil {
		w.s.exclusive = t.id
		defer func() { w.s.exclusive = "" }()
	}
	change(ctx)
}

func (w *workload) user() string { return w.users[w.s.rand.IntN(len(w.users))] }

func (w *workload) product() *product { return w.products[w.s.rand.IntN(len(w.products))] }

func (w *workload) fill(ctx context.Context) {
	s := w.s
	var items []map[string]any
	seen := map[string]bool{}
	for range 1 + s.rand.IntN(3) {
		p := w.product()
		if seen[p.id] || p.gone {
			continue
		}
		seen[p.id] = true
		items = append(items, map[string]any{"productId": p.id, "quantity": 1 + s.rand.IntN(3)})
	}
	body, _ := json.Marshal(map[string]any{"items": items})
	s.api(ctx, events.ServiceBasket, "POST", "/basket", string(body), claims(w.user()), nil)
}

// checkout checks the user's basket out with an Idempotency-Key, retrying
// with the same key after a 5xx or a 409 (the first attempt still holds the
// key), as a client should.
func (w *workload) checkout(ctx context.Context) {
	s := w.s
	user := w.user()
	method := "invoice"
	if s.rand.IntN(5) == 0 {
		method = "test-decline"
	}
	body := fmt.Sprintf(`{"firstName":"Ada","lastName":"Lovelace","email":"%s@example.com","address":"1 St","paymentMethod":%q}`, user, method)
	s.seq++
	key := map[string]string{"idempotency-key": "k" + strconv.Itoa(s.seq)}
	for range 3 {
		status, resp := s.api(ctx, events.ServiceBasket, "POST", "/basket/checkout", body, claims(user), key)
		if status == http.StatusAccepted {
			var co struct{ OrderID string }
			if err := json.Unmarshal([]byte(resp), &co); err != nil || co.OrderID == "" {
				s.broken(fmt.Errorf("checkout answered 202 with %s", resp))
				return
			}
			w.accepted = append(w.accepted, checkout{orderID: co.OrderID, user: user, method: method})
			s.trace("accepted checkout: order %s of %s, paying by %s", co.OrderID, user, method)
			return
		}
		if status < 500 && status != http.StatusConflict {
			return // an empty basket, say
		}
	}
}

func (w *workload) order() (checkout, bool) {
	if len(w.accepted) == 0 {
		return checkout{}, false
	}
	return w.accepted[w.s.rand.IntN(len(w.accepted))], true
}

func (w *workload) cancel(ctx context.Context) {
	if o, ok := w.order(); ok {
		w.s.api(ctx, events.ServiceOrdering, "POST", "/order/"+o.user+"/"+o.orderID+"/cancel", "", claims(o.user), nil)
	}
}

// ship ships an order the admin reads as PAID, as the admin page offers.
func (w *workload) ship(ctx context.Context) {
	o, ok := w.order()
	if !ok {
		return
	}
	path := "/order/" + o.user + "/" + o.orderID
	status, resp := w.s.api(ctx, events.ServiceOrdering, "GET", path, "", admin, nil)
	var read struct{ Status string }
	if status == http.StatusOK && json.Unmarshal([]byte(resp), &read) == nil && read.Status == "PAID" {
		w.s.api(ctx, events.ServiceOrdering, "POST", path+"/ship", "", admin, nil)
	}
}

func (w *workload) reprice(ctx context.Context) {
	s := w.s
	p := w.product()
	body := fmt.Sprintf(`{"name":%q,"category":"Things","price":%d.%02d}`, p.name, 1+s.rand.IntN(50), s.rand.IntN(100))
	s.api(ctx, events.ServiceCatalog, "PUT", "/product/"+p.id, body, admin, nil)
}

func (w *workload) delete(ctx context.Context) {
	if w.deleted {
		return
	}
	p := w.product()
	if status, _ := w.s.api(ctx, events.ServiceCatalog, "DELETE", "/product/"+p.id, "", admin, nil); status == http.StatusNoContent {
		p.gone, w.deleted = true, true
	}
}

// setStock sets a product's stock as the admin page does, from the version
// it read, or, half the time, without one ("there are n now"), which no
// change landing meanwhile may refuse.
func (w *workload) setStock(ctx context.Context) {
	s := w.s
	p := w.product()
	body := fmt.Sprintf(`{"available":%d}`, s.rand.IntN(9))
	versioned := s.rand.IntN(2) == 0
	if versioned {
		status, resp := s.api(ctx, events.ServiceInventory, "GET", "/inventory/"+p.id+"/admin", "", admin, nil)
		var st struct{ Version int64 }
		if status != http.StatusOK || json.Unmarshal([]byte(resp), &st) != nil {
			return
		}
		body = fmt.Sprintf(`{"available":%d,"version":%d}`, s.rand.IntN(9), st.Version)
	}
	w.ledger(ctx, p.id, func() {
		status, resp := s.api(ctx, events.ServiceInventory, "PUT", "/inventory/"+p.id, body, admin, nil)
		w.admitted("PUT /inventory/"+p.id+" "+body, status, resp)
		if !versioned && status == http.StatusConflict {
			s.broken(fmt.Errorf("stock of %s set without a version was refused: %s", p.id, resp))
		}
	}, false)
}

// admitted holds an admin's answer to what a client may be told: anything
// but a fault (500). 502 is a function that died (API Gateway's answer),
// 503 a table that stayed busy (retry shortly).
func (w *workload) admitted(request string, status int, resp string) {
	if status == http.StatusInternalServerError {
		w.s.broken(fmt.Errorf("%s answered 500: %s", request, resp))
	}
}

func (w *workload) adjust(ctx context.Context) {
	s := w.s
	p := w.product()
	delta := 1 + s.rand.IntN(4)
	if s.rand.IntN(3) == 0 {
		delta = -delta
	}
	body := fmt.Sprintf(`{"delta":%d,"reason":"count"}`, delta)
	w.ledger(ctx, p.id, func() {
		status, resp := s.api(ctx, events.ServiceInventory, "POST", "/inventory/"+p.id+"/adjustments", body, admin, nil)
		w.admitted("POST /inventory/"+p.id+"/adjustments", status, resp)
	}, true)
}

// ledger runs an admin's stock request and records what it changed, read
// from the table before and after (nothing else runs meanwhile), whatever
// the admin was answered: a request whose function died may have landed.
func (w *workload) ledger(ctx context.Context, id string, request func(), relative bool) {
	before, _ := w.stock.Get(ctx, id)
	request()
	after, err := w.stock.Get(ctx, id)
	if err != nil || after == before {
		return
	}
	if relative {
		w.supply[id] += after.Available - before.Available
		w.s.trace("supply of %s: %+d, now %d", id, after.Available-before.Available, w.supply[id])
		return
	}
	sold, err := w.s.sold(ctx)
	if err != nil {
		w.s.broken(err)
		return
	}
	w.supply[id] = after.Available + after.Reserved + sold[id]
	w.s.trace("supply of %s set: %d (available %d, reserved %d, sold %d)", id, w.supply[id], after.Available, after.Reserved, sold[id])
}
