package localapp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/eventshop/eventshop/api"
	"github.com/eventshop/eventshop/internal/auth/localjwt"
	"github.com/eventshop/eventshop/internal/basket"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/events/eventschema"
	"github.com/eventshop/eventshop/internal/inventory"
	inventoryapp "github.com/eventshop/eventshop/internal/inventory/app"
	inventorysqlite "github.com/eventshop/eventshop/internal/inventory/sqlite"
	"github.com/eventshop/eventshop/internal/localapp"
	"github.com/eventshop/eventshop/internal/localapp/localapptest"
	"github.com/eventshop/eventshop/internal/localbus"
	"github.com/eventshop/eventshop/internal/money"
	"github.com/eventshop/eventshop/internal/sqlitedb"
	"github.com/eventshop/eventshop/internal/telemetry"
	"github.com/eventshop/eventshop/internal/waittest"
	"github.com/eventshop/eventshop/web"
)

// shop is the local app running in-process behind an httptest server.
type shop struct {
	*localapptest.Shop
	t    testing.TB
	app  *localapp.App
	keys *localjwt.Keys // the shop's own signing key, read from its data dir
	srv  *httptest.Server
	stop func()
}

func start(t testing.TB, dir string, demo bool) *shop {
	t.Helper()
	return startWith(t, dir, demo, false)
}

func startWith(t testing.TB, dir string, demo, untraced bool) *shop {
	t.Helper()
	s := localapptest.Start(t, localapp.Config{DataDir: dir, Demo: demo, Untraced: untraced, DevSignIn: true})
	holdToSchemas(t, s.App.Bus())
	return &shop{Shop: s, t: t, app: s.App, keys: s.Keys, srv: s.Server, stop: s.Stop}
}

// unchecked are events tests publish on purpose against their schema.
var unchecked sync.Map

// holdToSchemas validates every event the bus takes while the test runs
// against its schema (api/events): the local producers are held to them.
// A watcher more than 256 events behind misses the newest (localbus.Watch);
// it checks all it sees, and fails the test at its end for any that breaks
// a schema.
func holdToSchemas(t testing.TB, bus *localbus.Bus) {
	t.Helper()
	v, err := eventschema.NewValidator(api.EventSchemas)
	if err != nil {
		t.Fatal(err)
	}
	recent, live, stop := bus.Watch()
	var errs []error
	check := func(p localbus.Published) {
		var id struct{ ID string }
		if json.Unmarshal(p.Envelope, &id) == nil {
			if _, skip := unchecked.Load(id.ID); skip {
				return
			}
		}
		if err := v.Envelope(p.Envelope); err != nil {
			errs = append(errs, fmt.Errorf("%w\n%s", err, p.Envelope))
		}
	}
	for _, p := range recent {
		check(p)
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case p := <-live:
				check(p)
			case <-done:
				for {
					select {
					case p := <-live:
						check(p)
					default:
						return
					}
				}
			}
		}
	}()
	t.Cleanup(func() {
		stop()
		close(done)
		<-finished
		for _, err := range errs {
			t.Errorf("an event broke its schema: %v", err)
		}
	})
}

// specRouter finds operations in the OpenAPI document, whatever the server.
var specRouter = sync.OnceValues(func() (routers.Router, error) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		return nil, err
	}
	doc.Servers = nil
	return legacy.NewRouter(doc)
})

// checkSpec holds every response to a documented route to the OpenAPI
// document: its status must be documented and its body must match.
func checkSpec(t testing.TB, req *http.Request, res *http.Response, body []byte) {
	t.Helper()
	router, err := specRouter()
	if err != nil {
		t.Fatalf("OpenAPI document: %v", err)
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		return // not a documented route: the test is probing what is not there
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true}
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts},
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                opts,
	})
	if err != nil {
		t.Errorf("%s %s → %d does not match api/openapi.yaml: %v", req.Method, req.URL.Path, res.StatusCode, err)
	}
}

// client calls the shop as one caller: a user, an admin, or nobody.
type client struct {
	s      *shop
	token  string
	header http.Header // sent with every request; a body is JSON unless it says otherwise
}

// with returns c sending header k: v as well.
func (c client) with(k, v string) client {
	h := c.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set(k, v)
	c.header = h
	return c
}

func (s *shop) anonymous() client { return client{s: s} }

func (s *shop) as(user string, admin bool) client {
	s.t.Helper()
	tok, err := s.keys.Issue(user, admin, time.Hour, time.Now())
	if err != nil {
		s.t.Fatal(err)
	}
	return client{s: s, token: tok}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (c client) do(method, path, body string) response {
	s := c.s
	s.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.srv.URL+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	checkSpec(s.t, req, res, b)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func (c client) want(status int, method, path, body string) response {
	s := c.s
	s.t.Helper()
	r := c.do(method, path, body)
	if r.status != status {
		s.t.Fatalf("%s %s → %d %s, want %d", method, path, r.status, r.body, status)
	}
	return r
}

func (c client) wantProblem(status int, method, path, body, detailHas string) {
	s := c.s
	s.t.Helper()
	r := c.want(status, method, path, body)
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		s.t.Fatalf("%s %s: Content-Type %q, want application/problem+json", method, path, ct)
	}
	var p struct {
		Status int    `json:"status"`
		Detail string `json:"detail"`
	}
	r.decode(s.t, &p)
	if p.Status != status || !strings.Contains(p.Detail, detailHas) {
		s.t.Fatalf("%s %s: problem %+v, want status %d and a detail containing %q", method, path, p, status, detailHas)
	}
}

type product struct {
	ID      string          `json:"id"`
	Price   json.RawMessage `json:"price"`
	Version int64           `json:"version"`
}

type basketResp struct {
	Items []struct {
		ProductID   string          `json:"productId"`
		ProductName string          `json:"productName"`
		Quantity    int             `json:"quantity"`
		UnitPrice   json.RawMessage `json:"unitPrice"`
		LineTotal   json.RawMessage `json:"lineTotal"`
	} `json:"items"`
	TotalPrice json.RawMessage `json:"totalPrice"`
}

type order struct {
	OrderID    string          `json:"orderId"`
	UserName   string          `json:"userName"`
	Status     string          `json:"status"`
	TotalPrice json.RawMessage `json:"totalPrice"`
	OrderDate  time.Time       `json:"orderDate"`
	Lines      []struct {
		ProductID string `json:"productId"`
		Quantity  int    `json:"quantity"`
	} `json:"lines"`
}

type list[T any] struct {
	Items     []T    `json:"items"`
	NextToken string `json:"nextToken"`
}

const buyer = `"firstName":"Ada","lastName":"Lovelace","email":"ada@example.com","address":"1 Analytical St","paymentMethod":"invoice"`

func TestShopEndToEnd(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir, false)
	admin, alice, carol := s.as("root", true), s.as("alice", false), s.as("carol", false)

	// Catalog.
	var widget, gadget product
	r := admin.want(201, "POST", "/product", `{"name":"Widget","category":"Tools","price":19.99,"description":"w","imageFile":"w.png"}`)
	r.decode(t, &widget)
	if loc := r.header.Get("Location"); loc != "/product/"+widget.ID {
		t.Fatalf("Location = %q", loc)
	}
	admin.want(201, "POST", "/product", `{"name":"Gadget","category":"Toys","price":5}`).decode(t, &gadget)
	if string(widget.Price) != "19.99" || string(gadget.Price) != "5.00" {
		t.Fatalf("prices %s, %s", widget.Price, gadget.Price)
	}
	var tools list[product]
	admin.want(200, "GET", "/product?category=Tools", "").decode(t, &tools)
	if len(tools.Items) != 1 || tools.Items[0].ID != widget.ID {
		t.Fatalf("category Tools = %+v", tools.Items)
	}
	admin.wantProblem(400, "POST", "/product", `{"name":"X","category":"Toys","price":1.999}`, "price")
	admin.wantProblem(400, "POST", "/product", `{"name":"X","category":"Toys","price":0}`, "price")
	admin.wantProblem(400, "POST", "/product", `{"name":"X","category":"Toys","price":1000000.01}`, "price")
	admin.wantProblem(400, "POST", "/product", `{"name":"X","category":"Toys","price":1,"colour":"red"}`, "colour")
	admin.wantProblem(400, "POST", "/product", `{"name":`, "JSON")
	admin.wantProblem(413, "POST", "/product", `{"name":"`+strings.Repeat("x", 1<<20)+`"}`, "1 MiB")
	admin.wantProblem(404, "GET", "/product/no-such-id", "", "not found")
	admin.wantProblem(409, "PUT", "/product/"+widget.ID, `{"name":"Widget","category":"Tools","price":19.99,"version":7}`, "changed")

	// Basket: priced by the server from the view, whatever the client sends.
	basket := `{"userName":"alice","items":[{"productId":"` + widget.ID + `","quantity":3,"color":"red","price":0.01,"productName":"cheap"},{"productId":"` + gadget.ID + `","quantity":2}]}`
	waittest.For(t, "the price view to learn both products", func() bool { return alice.do("POST", "/basket", basket).status == 200 })
	var b basketResp
	alice.want(200, "GET", "/basket/alice", "").decode(t, &b)
	if string(b.TotalPrice) != "69.97" || string(b.Items[0].LineTotal) != "59.97" || b.Items[0].ProductName != "Widget" || string(b.Items[0].UnitPrice) != "19.99" {
		t.Fatalf("priced basket = %+v, want 3 × 19.99 = 59.97 and total 69.97", b)
	}
	alice.wantProblem(422, "POST", "/basket", `{"userName":"alice","items":[{"productId":"unknown-product","quantity":1}]}`, "unknown-product")
	alice.wantProblem(400, "POST", "/basket", `{"userName":"alice","items":[{"productId":"`+widget.ID+`","quantity":100}]}`, "quantity")
	s.as("nobody", false).want(200, "GET", "/basket/nobody", "")

	// Checkout: card data refused, empty baskets refused; a retry under the same
	// Idempotency-Key gets the first answer, a changed body under it a 422, and a
	// checkout without a key of the emptied basket a 422.
	alice.wantProblem(400, "POST", "/basket/checkout", `{"userName":"alice",`+buyer+`,"cardInfo":{"number":"4111111111111111"}}`, "card")
	s.as("bob", false).wantProblem(422, "POST", "/basket/checkout", `{"userName":"bob",`+buyer+`}`, "empty")
	var co, retry struct{ OrderID string }
	keyed := alice.with("Idempotency-Key", "checkout-1")
	first := keyed.want(202, "POST", "/basket/checkout", `{"userName":"alice",`+buyer+`}`)
	first.decode(t, &co)
	again := keyed.want(202, "POST", "/basket/checkout", `{"userName":"alice",`+buyer+`}`)
	again.decode(t, &retry)
	if co.OrderID == "" || retry.OrderID != co.OrderID || again.header.Get("Idempotent-Replayed") != "true" || first.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("checkout ids %q and retry %q (replayed %q), want the same, replayed", co.OrderID, retry.OrderID, again.header.Get("Idempotent-Replayed"))
	}
	keyed.wantProblem(422, "POST", "/basket/checkout", `{"userName":"alice",`+strings.Replace(buyer, "Ada", "Grace", 1)+`}`, "different request")
	alice.wantProblem(422, "POST", "/basket/checkout", `{"userName":"alice",`+buyer+`}`, "empty")
	s.as("carol", false).with("Idempotency-Key", "checkout-1").wantProblem(422, "POST", "/basket/checkout", `{"userName":"carol",`+buyer+`}`, "empty")
	alice.with("Idempotency-Key", "bad key").wantProblem(400, "POST", "/basket/checkout", `{"userName":"alice",`+buyer+`}`, "Idempotency-Key")
	alice.want(200, "GET", "/basket/alice", "").decode(t, &b)
	if len(b.Items) != 0 {
		t.Fatalf("basket after checkout = %+v, want empty", b)
	}

	// The order appears: a read that asks to wait (Prefer: wait, RFC 7240)
	// is answered once it is placed.
	var o order
	alice.with("Prefer", "wait=5").want(200, "GET", "/order/alice/"+co.OrderID, "").decode(t, &o)
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
		alice.want(200, "GET", "/order/alice/"+co.OrderID, "").decode(t, &saga)
		return saga.Status == "PAID"
	})
	if len(saga.History) != 3 || saga.History[1].Status != "RESERVED" {
		t.Fatalf("history %+v", saga.History)
	}

	// Its owner cancels it, once; the payment comes back.
	alice.want(202, "POST", "/order/alice/"+co.OrderID+"/cancel", "").decode(t, &saga)
	if saga.Status != "CANCELLED" || saga.CancelReason != "customer_cancelled" || len(saga.History) != 4 || saga.History[3].Reason != "customer_cancelled" {
		t.Fatalf("cancelled order = %+v", saga)
	}
	alice.wantProblem(409, "POST", "/order/alice/"+co.OrderID+"/cancel", "", "is CANCELLED")
	admin.wantProblem(409, "POST", "/order/alice/"+co.OrderID+"/ship", "", "cannot become SHIPPED")
	waittest.For(t, "the refund in the order's history", func() bool {
		alice.want(200, "GET", "/order/alice/"+co.OrderID, "").decode(t, &saga)
		return len(saga.History) == 5 && saga.History[4].Status == "REFUNDED"
	})

	// A deleted product makes checkout fail, naming it.
	carol.want(200, "POST", "/basket", `{"userName":"carol","items":[{"productId":"`+gadget.ID+`","quantity":1}]}`)
	admin.want(204, "DELETE", "/product/"+gadget.ID, "")
	waittest.For(t, "the view to drop the deleted product", func() bool {
		var line struct {
			Items []struct{ Unavailable bool } `json:"items"`
		}
		carol.want(200, "GET", "/basket/carol", "").decode(t, &line)
		return line.Items[0].Unavailable
	})
	carol.wantProblem(422, "POST", "/basket/checkout", `{"userName":"carol",`+buyer+`}`, gadget.ID)

	// Restart on the same data: everything is still there, nothing is duplicated.
	s.stop()
	s = start(t, dir, false)
	defer s.stop()
	admin, alice, carol = s.as("root", true), s.as("alice", false), s.as("carol", false)
	s.WaitIdle(t) // what was in flight at the stop has come again, and been handled
	var orders list[order]
	alice.want(200, "GET", "/order/alice", "").decode(t, &orders)
	if len(orders.Items) != 1 || orders.Items[0].OrderID != co.OrderID {
		t.Fatalf("orders after restart = %+v, want exactly %s", orders.Items, co.OrderID)
	}
	for status, want := range map[string]int{"": 1, "CANCELLED": 1, "PAID": 0} {
		admin.want(200, "GET", "/order?status="+status, "").decode(t, &orders)
		if len(orders.Items) != want || (want == 1 && orders.Items[0].OrderID != co.OrderID) {
			t.Fatalf("the admin's orders in status %q = %+v, want %d", status, orders.Items, want)
		}
	}
	var all list[product]
	admin.want(200, "GET", "/product", "").decode(t, &all)
	if len(all.Items) != 1 || all.Items[0].ID != widget.ID {
		t.Fatalf("products after restart = %+v, want only the widget", all.Items)
	}
	carol.want(200, "GET", "/basket/carol", "").decode(t, &b)
	if len(b.Items) != 1 {
		t.Fatalf("carol's basket after restart = %+v", b)
	}
	for _, q := range []string{"basket-price-view", "ordering-checkout", "basket-price-view-dlq", "ordering-checkout-dlq"} {
		if n, err := s.app.Bus().Depth(t.Context(), q); err != nil || n != 0 {
			t.Errorf("queue %s holds %d messages (%v) at rest, want 0", q, n, err)
		}
	}
}

func TestDemoCatalogLoadsOnce(t *testing.T) {
	dir := t.TempDir()
	count := func(s *shop) int {
		var l list[product]
		s.anonymous().want(200, "GET", "/product?limit=100", "").decode(t, &l)
		return len(l.Items)
	}
	s := start(t, dir, true)
	first := count(s)
	if first < 12 {
		t.Fatalf("demo catalog has %d products, want at least 12", first)
	}
	var phones list[product]
	s.anonymous().want(200, "GET", "/product?category=Phone", "").decode(t, &phones)
	if len(phones.Items) == 0 {
		t.Fatal("no demo phones")
	}
	// The demo products' events reach the basket's price view like any write.
	body, _ := json.Marshal(map[string]any{"userName": "demo", "items": []map[string]any{{"productId": phones.Items[0].ID, "quantity": 1}}})
	waittest.For(t, "demo products in the price view", func() bool { return s.as("demo", false).do("POST", "/basket", string(body)).status == 200 })
	s.stop()
	// Every demo product has its demo stock; the inventory knows the products
	// from the catalog's events too.
	stock, err := inventorysqlite.Open(t.Context(), filepath.Join(dir, "inventory.db"))
	if err != nil {
		t.Fatal(err)
	}
	var all list[product]
	s = start(t, dir, true)
	s.anonymous().want(200, "GET", "/product?limit=100", "").decode(t, &all)
	for _, p := range all.Items {
		st, err := stock.Get(t.Context(), p.ID)
		if err != nil || !st.Tracked || st.Available != inventoryapp.DemoStock || st.CatalogVersion != p.Version {
			t.Fatalf("stock of demo product %s: %+v, %v", p.ID, st, err)
		}
	}
	stock.Close()
	s.stop()
	s = start(t, dir, true)
	defer s.stop()
	if again := count(s); again != first {
		t.Fatalf("restart with --demo: %d products, want %d", again, first)
	}
}

// A product the catalog creates reaches the inventory by its event.
func TestInventoryLearnsProducts(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir, false)
	var p product
	s.as("root", true).want(201, "POST", "/product", `{"name":"Widget","category":"Tools","price":1}`).decode(t, &p)
	stock, err := inventorysqlite.Open(t.Context(), filepath.Join(dir, "inventory.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer stock.Close()
	waittest.For(t, "the inventory to know the product", func() bool {
		st, err := stock.Get(t.Context(), p.ID)
		return err == nil && st.CatalogVersion == 1 && !st.Tracked
	})
	s.as("root", true).want(204, "DELETE", "/product/"+p.ID, "")
	waittest.For(t, "the inventory to know of the deletion", func() bool {
		st, err := stock.Get(t.Context(), p.ID)
		return err == nil && st.Deleted
	})
	s.stop()
}

func TestBadPageRequests(t *testing.T) {
	s := start(t, t.TempDir(), false)
	defer s.stop()
	s.anonymous().wantProblem(400, "GET", "/product?limit=0", "", "limit")
	s.anonymous().wantProblem(400, "GET", "/product?limit=101", "", "limit")
	s.anonymous().wantProblem(400, "GET", "/product?nextToken=garbage!", "", "nextToken")
	s.as("alice", false).wantProblem(400, "GET", "/order/alice?limit=x", "", "limit")
	s.as("root", true).wantProblem(400, "GET", "/order?status=LOST", "", "status")
	s.as("root", true).wantProblem(400, "GET", "/basket/"+strings.Repeat("a", 70), "", "userName")
	s.anonymous().wantProblem(404, "GET", "/nowhere", "", "")
	s.anonymous().wantProblem(405, "PATCH", "/product", "", "GET")
	if r := s.anonymous().want(200, "GET", "/openapi.yaml", ""); !bytes.Equal(r.body, api.OpenAPI) {
		t.Fatal("GET /openapi.yaml does not serve the API document")
	}
}

func TestOneShopPerDataDir(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir, false)
	_, err := localapp.Open(t.Context(), localapp.Config{DataDir: dir}, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second Open on a data dir in use: %v", err)
	}
	s.stop()
	second := start(t, dir, false) // released on Close
	second.stop()
}

// TestAuthorizationMatrix calls every route as nobody, as the owner (alice),
// as another user (bob) and as an admin.
func TestAuthorizationMatrix(t *testing.T) {
	s := start(t, t.TempDir(), false)
	defer s.stop()
	admin, alice := s.as("root", true), s.as("alice", false)
	callers := []struct {
		name string
		c    client
	}{{"nobody", s.anonymous()}, {"other", s.as("bob", false)}, {"admin", admin}, {"owner", alice}}

	var p, doomed product
	admin.want(201, "POST", "/product", `{"name":"Widget","category":"Tools","price":19.99}`).decode(t, &p)
	admin.want(201, "POST", "/product", `{"name":"Doomed","category":"Tools","price":1}`).decode(t, &doomed)
	fill := `{"items":[{"productId":"` + p.ID + `","quantity":1}]}`
	waittest.For(t, "the price view", func() bool { return alice.do("POST", "/basket", fill).status == 200 })
	var co struct{ OrderID string }
	alice.want(202, "POST", "/basket/checkout", `{`+buyer+`}`).decode(t, &co)
	waittest.For(t, "alice's order to be paid", func() bool {
		r := alice.do("GET", "/order/alice/"+co.OrderID, "")
		return r.status == 200 && strings.Contains(string(r.body), `"status":"PAID"`)
	})
	alice.want(200, "POST", "/basket", fill)
	waittest.For(t, "the inventory to know the product", func() bool { return alice.do("GET", "/inventory/"+p.ID, "").status == 200 })

	product := `{"name":"Widget","category":"Tools","price":21}`
	rows := []struct {
		method, path, body string
		want               [4]int // nobody, other, admin, owner
	}{
		{"GET", "/product", "", [4]int{200, 200, 200, 200}},
		{"GET", "/product/" + p.ID, "", [4]int{200, 200, 200, 200}},
		{"POST", "/product", product, [4]int{401, 403, 201, 403}},
		{"PUT", "/product/" + p.ID, product, [4]int{401, 403, 200, 403}},
		{"DELETE", "/product/" + doomed.ID, "", [4]int{401, 403, 204, 403}},
		{"GET", "/basket", "", [4]int{401, 403, 200, 403}},
		{"GET", "/basket/alice", "", [4]int{401, 403, 200, 200}},
		{"POST", "/basket", `{"userName":"alice","items":[]}`, [4]int{401, 403, 403, 200}},
		{"POST", "/basket", fill, [4]int{401, 200, 200, 200}}, // no userName: the caller's own basket
		{"POST", "/basket/checkout", `{"userName":"alice",` + buyer + `}`, [4]int{401, 403, 403, 202}},
		{"DELETE", "/basket/alice", "", [4]int{401, 403, 403, 204}},
		{"GET", "/order", "", [4]int{401, 403, 200, 403}},
		{"GET", "/order/alice", "", [4]int{401, 403, 200, 200}},
		{"GET", "/order/alice/" + co.OrderID, "", [4]int{401, 403, 200, 200}},
		{"GET", "/inventory/" + p.ID, "", [4]int{200, 200, 200, 200}},
		{"GET", "/inventory/" + p.ID + "/admin", "", [4]int{401, 403, 200, 403}},
		{"PUT", "/inventory/" + p.ID, `{"available":500}`, [4]int{401, 403, 200, 403}},
		{"POST", "/inventory/" + p.ID + "/adjustments", `{"delta":-1,"reason":"breakage"}`, [4]int{401, 403, 200, 403}},
		{"POST", "/order/alice/" + co.OrderID + "/ship", "", [4]int{401, 403, 200, 403}},   // paid: the admin ships it
		{"POST", "/order/alice/" + co.OrderID + "/cancel", "", [4]int{401, 403, 409, 409}}, // shipped: too late
		// Another user learns nothing from an order id that does not exist either.
		{"GET", "/order/alice/0193a1b2-c3d4-7e5f-8a9b-000000000000", "", [4]int{401, 403, 404, 404}},
	}
	for _, row := range rows {
		for i, who := range callers {
			r := who.c.do(row.method, row.path, row.body)
			if r.status != row.want[i] {
				t.Errorf("%s %s as %s → %d %s, want %d", row.method, row.path, who.name, r.status, r.body, row.want[i])
				continue
			}
			if r.status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s %s as %s: 401 without a WWW-Authenticate: Bearer header", row.method, row.path, who.name)
			}
			if r.status == 403 && (strings.Contains(string(r.body), "Widget") || strings.Contains(string(r.body), co.OrderID)) {
				t.Errorf("%s %s as %s: a 403 that tells about the data: %s", row.method, row.path, who.name, r.body)
			}
		}
	}
	// An invalid token is a 401 on every protected route, and ignored on public ones.
	forged := client{s: s, token: "eyJhbGciOiJub25lIn0.eyJjb2duaXRvOnVzZXJuYW1lIjoiYWxpY2UifQ."}
	forged.wantProblem(401, "GET", "/basket/alice", "", "not valid")
	forged.want(200, "GET", "/product", "")
}

func TestHostileInputChangesNothing(t *testing.T) {
	s := start(t, t.TempDir(), false)
	admin, alice := s.as("root", true), s.as("alice", false)
	var widget product
	admin.want(201, "POST", "/product", `{"name":"Widget","category":"Tools","price":19.99}`).decode(t, &widget)
	basket := `{"items":[{"productId":"` + widget.ID + `","quantity":2}]}`
	waittest.For(t, "the price view", func() bool { return alice.do("POST", "/basket", basket).status == 200 })

	alice.wantProblem(400, "POST", "/basket", `null`, "not null")
	alice.wantProblem(400, "POST", "/basket", `{"items":null}`, "items: must not be null")
	alice.wantProblem(400, "POST", "/basket", `{"items":[null]}`, "items[0]: must not be null")
	alice.wantProblem(400, "POST", "/basket", `{"ITEMS":[]}`, "ITEMS: is not a known field")
	alice.wantProblem(400, "POST", "/basket", `{"items":[],"items":[]}`, "items: appears more than once")
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "application/xml"} {
		alice.with("Content-Type", ct).wantProblem(415, "POST", "/basket", `{"items":[]}`, "Content-Type: application/json")
	}
	alice.with("Content-Type", "application/json; charset=utf-8").want(200, "POST", "/basket", basket)
	// A checkout's buyer fields: a payment method the shop offers, one bare
	// e-mail address.
	for field, body := range map[string]string{
		"paymentMethod": `{"firstName":"A","lastName":"L","email":"ada@example.com","address":"1 St","paymentMethod":"<svg/onload=alert(1)>"}`,
		"email":         `{"firstName":"A","lastName":"L","email":"<img src=x onerror=alert(1)>@evil.example","address":"1 St","paymentMethod":"invoice"}`,
	} {
		alice.wantProblem(400, "POST", "/basket/checkout", body, field)
	}
	var b basketResp
	alice.want(200, "GET", "/basket/alice", "").decode(t, &b)
	if len(b.Items) != 1 || b.Items[0].Quantity != 2 {
		t.Fatalf("refused requests changed the basket: %+v", b)
	}

	admin.wantProblem(400, "POST", "/product", `{"NAME":"x","category":"c","price":1}`, "NAME: is not a known field")
	admin.wantProblem(400, "POST", "/product", `{"name":"x","category":"c","price":"19.99"}`, "price: must be a JSON number")
	admin.wantProblem(400, "PUT", "/product/"+widget.ID, `{"name":"x","category":"c","price":null}`, "price")
	admin.wantProblem(400, "PUT", "/product/"+widget.ID, `{"name":"x","category":"c","price":1,"imageFile":"../../etc/passwd"}`, "imageFile")
	var got product
	admin.want(200, "GET", "/product/"+widget.ID, "").decode(t, &got)
	if got.Version != 1 || string(got.Price) != "19.99" {
		t.Fatalf("refused requests changed the product: %+v", got)
	}
	if r := admin.want(200, "GET", "/product?limit=100", ""); !bytes.HasSuffix(r.body, []byte("}\n")) {
		t.Fatalf("a JSON response does not end with a newline: %q", r.body)
	}
}

func TestDeadLetterAdminAPI(t *testing.T) {
	s := start(t, t.TempDir(), false)
	admin, alice := s.as("root", true), s.as("alice", false)
	q := events.QueueOrderingOrders
	// A checkout the ordering consumer can never place: it ends in the dead-letter queue.
	poison := events.Outgoing{ID: "poison-1", Source: events.SourceCheckout, DetailType: events.TypeCheckoutBasket, Detail: json.RawMessage(`{"checkoutId":"a/b"}`), Time: time.Now()}
	unchecked.Store(poison.ID, true)
	if err := s.app.Bus().Publish(t.Context(), []events.Outgoing{poison}); err != nil {
		t.Fatal(err)
	}
	var letters struct {
		Items []struct {
			ID   string          `json:"id"`
			Body json.RawMessage `json:"body"`
		} `json:"items"`
	}
	waittest.For(t, "the dead letter", func() bool {
		admin.want(200, "GET", "/admin/queues/"+q+"/dead-letters", "").decode(t, &letters)
		return len(letters.Items) == 1
	})
	id := letters.Items[0].ID
	if !bytes.Contains(letters.Items[0].Body, []byte(`"poison-1"`)) {
		t.Fatalf("dead letter %s", letters.Items[0].Body)
	}
	alice.wantProblem(403, "GET", "/admin/queues/"+q+"/dead-letters", "", "")
	s.anonymous().wantProblem(401, "GET", "/admin/queues", "", "")
	admin.wantProblem(404, "GET", "/admin/queues/nope/dead-letters", "", q)
	admin.wantProblem(404, "GET", "/admin/queues/"+q+"/dead-letters/m_nope", "", "no such dead letter")
	var stats struct {
		Items []struct {
			Queue       string `json:"queue"`
			DeadLetters int    `json:"deadLetters"`
		} `json:"items"`
	}
	admin.want(200, "GET", "/admin/queues", "").decode(t, &stats)
	if len(stats.Items) != len(events.Rules()) {
		t.Fatalf("queues %+v", stats)
	}
	admin.want(200, "GET", "/admin/queues/"+q+"/dead-letters/"+id, "")
	var moved struct{ Moved int }
	admin.want(200, "POST", "/admin/queues/"+q+"/dead-letters/"+id+"/redrive", "").decode(t, &moved)
	if moved.Moved != 1 {
		t.Fatalf("redrive moved %d", moved.Moved)
	}
	// Still poison: back in the dead-letter queue after its receives.
	waittest.For(t, "the dead letter to come back", func() bool {
		admin.want(200, "GET", "/admin/queues/"+q+"/dead-letters", "").decode(t, &letters)
		return len(letters.Items) == 1
	})
	admin.want(200, "POST", "/admin/queues/"+q+"/dead-letters/redrive", "").decode(t, &moved)
	waittest.For(t, "the dead letter to come back again", func() bool {
		admin.want(200, "GET", "/admin/queues/"+q+"/dead-letters", "").decode(t, &letters)
		return len(letters.Items) == 1
	})
	admin.want(204, "DELETE", "/admin/queues/"+q+"/dead-letters/"+letters.Items[0].ID, "")
	admin.want(200, "GET", "/admin/queues/"+q+"/dead-letters", "").decode(t, &letters)
	if len(letters.Items) != 0 {
		t.Fatalf("after delete: %+v", letters)
	}
}

// With the demo stock (25 of each product), an order that wants more is
// cancelled out of stock; one within it is reserved, and cancelling it gives
// the stock back.
func TestStockIsHeldAndGivenBack(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir, true)
	defer s.stop()
	alice := s.as("alice", false)
	var phones list[product]
	s.anonymous().want(200, "GET", "/product?category=Phone", "").decode(t, &phones)
	phone := phones.Items[0].ID
	order := func(quantity int) string {
		body := fmt.Sprintf(`{"items":[{"productId":%q,"quantity":%d}]}`, phone, quantity)
		waittest.For(t, "the price view", func() bool { return alice.do("POST", "/basket", body).status == 200 })
		var co struct{ OrderID string }
		alice.want(202, "POST", "/basket/checkout", `{`+buyer+`}`).decode(t, &co)
		return co.OrderID
	}
	status := func(id, want string) {
		t.Helper()
		var o struct{ Status, CancelReason string }
		waittest.For(t, "order "+id+" to be "+want, func() bool {
			r := alice.do("GET", "/order/alice/"+id, "")
			if r.status != 200 {
				return false
			}
			r.decode(t, &o)
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
	alice.want(202, "POST", "/order/alice/"+held+"/cancel", "")
	waittest.For(t, "the stock to come back", func() bool {
		st, _ := stock.Get(t.Context(), phone)
		return st.Available == 25 && st.Reserved == 0
	})

	// The simulator declines the test method: the order is cancelled
	// payment_declined, and its stock comes back.
	body := fmt.Sprintf(`{"items":[{"productId":%q,"quantity":4}]}`, phone)
	alice.want(200, "POST", "/basket", body)
	var co struct{ OrderID string }
	alice.want(202, "POST", "/basket/checkout", `{"firstName":"Ada","lastName":"L","email":"a@b.c","address":"x","paymentMethod":"test-decline"}`).decode(t, &co)
	status(co.OrderID, "CANCELLED")
	var declined struct{ CancelReason string }
	alice.want(200, "GET", "/order/alice/"+co.OrderID, "").decode(t, &declined)
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
	defer s.stop()
	admin := s.as("root", true)
	var p product
	admin.want(201, "POST", "/product", `{"name":"Widget","category":"Tools","price":1}`).decode(t, &p)
	s.anonymous().wantProblem(404, "GET", "/inventory/never-announced", "", "has not announced")
	waittest.For(t, "the inventory to know the product", func() bool { return s.anonymous().do("GET", "/inventory/"+p.ID, "").status == 200 })
	var public map[string]any
	s.anonymous().want(200, "GET", "/inventory/"+p.ID, "").decode(t, &public)
	if public["tracked"] != false || public["available"] != float64(0) || len(public) != 3 {
		t.Fatalf("public view of an untracked product: %v", public)
	}
	var st struct {
		Tracked             bool
		Available, Reserved int
		Version             int64
	}
	admin.want(200, "PUT", "/inventory/"+p.ID, `{"available":7}`).decode(t, &st)
	if !st.Tracked || st.Available != 7 || st.Version != 1 {
		t.Fatalf("after PUT: %+v", st)
	}
	admin.wantProblem(409, "PUT", "/inventory/"+p.ID, `{"available":8,"version":5}`, "changed by another request")
	admin.wantProblem(400, "PUT", "/inventory/"+p.ID, `{"available":-1}`, "available")
	admin.wantProblem(400, "PUT", "/inventory/"+p.ID, `{"available":1000001}`, "available")
	admin.wantProblem(400, "PUT", "/inventory/"+p.ID, `{}`, "available: is required")
	admin.want(200, "GET", "/inventory/"+p.ID+"/admin", "").decode(t, &st)
	if st.Available != 7 || st.Version != 1 {
		t.Fatalf("admin view: %+v", st)
	}

	adjust := "/inventory/" + p.ID + "/adjustments"
	admin.want(200, "POST", adjust, `{"delta":-3,"reason":"3 broken in the stockroom"}`).decode(t, &st)
	if st.Available != 4 || st.Version != 2 {
		t.Fatalf("after -3: %+v", st)
	}
	admin.wantProblem(422, "POST", adjust, `{"delta":-5,"reason":"count"}`, "below 0")
	admin.wantProblem(400, "POST", adjust, `{"delta":0,"reason":"count"}`, "delta")
	admin.wantProblem(400, "POST", adjust, `{"reason":"count"}`, "delta: is required")
	admin.wantProblem(400, "POST", adjust, `{"delta":2}`, "reason")
	admin.wantProblem(400, "POST", adjust, `{"delta":2,"reason":"`+strings.Repeat("x", 201)+`"}`, "reason")
	admin.wantProblem(400, "POST", adjust, `{"delta":2,"reason":"count","version":2}`, "version")
	admin.wantProblem(404, "POST", "/inventory/never-announced/adjustments", `{"delta":2,"reason":"count"}`, "has not announced")
	var q product
	admin.want(201, "POST", "/product", `{"name":"Gadget","category":"Tools","price":1}`).decode(t, &q)
	waittest.For(t, "the inventory to know the other product", func() bool { return s.anonymous().do("GET", "/inventory/"+q.ID, "").status == 200 })
	admin.wantProblem(422, "POST", "/inventory/"+q.ID+"/adjustments", `{"delta":2,"reason":"count"}`, "not tracked")
	admin.want(200, "GET", "/inventory/"+p.ID+"/admin", "").decode(t, &st)
	if st.Available != 4 || st.Version != 2 {
		t.Fatalf("refused adjustments changed the stock: %+v", st)
	}
}

// 50 buyers check out one unit each of a product with 10 in stock, at once:
// exactly 10 orders hold stock (and go on to be paid), 40 are cancelled out
// of stock, and the stock ends at 0 available, 10 held.
func TestNoOversellingOverHTTP(t *testing.T) {
	s := start(t, t.TempDir(), false)
	defer s.stop()
	admin := s.as("root", true)
	var p product
	admin.want(201, "POST", "/product", `{"name":"Scarce","category":"Tools","price":5}`).decode(t, &p)
	waittest.For(t, "the inventory to know the product", func() bool { return admin.do("PUT", "/inventory/"+p.ID, `{"available":10}`).status == 200 })
	fill := `{"items":[{"productId":"` + p.ID + `","quantity":1}]}`
	buyers := make([]client, 50)
	for i := range buyers {
		buyers[i] = s.as(fmt.Sprintf("buyer%d", i), false)
		waittest.For(t, "the price view", func() bool { return buyers[i].do("POST", "/basket", fill).status == 200 })
	}
	ids := make([]string, len(buyers))
	var wg sync.WaitGroup
	for i, b := range buyers {
		wg.Go(func() {
			var co struct{ OrderID string }
			r := b.do("POST", "/basket/checkout", `{`+buyer+`}`)
			if r.status == 202 {
				r.decode(t, &co)
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
			r := buyers[i].do("GET", fmt.Sprintf("/order/buyer%d/%s", i, id), "")
			if r.status != 200 {
				return false
			}
			r.decode(t, &o)
			return o.Status == "PAID" || o.Status == "CANCELLED"
		})
		counts[o.Status+" "+o.CancelReason]++
	}
	if counts["PAID "] != 10 || counts["CANCELLED out_of_stock"] != 40 {
		t.Fatalf("orders %v, want 10 paid and 40 cancelled out of stock", counts)
	}
	var st struct{ Available, Reserved int }
	admin.want(200, "GET", "/inventory/"+p.ID+"/admin", "").decode(t, &st)
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
	s.anonymous().want(200, "GET", "/product?category=Phone", "").decode(t, &phones)
	body := `{"items":[{"productId":"` + phones.Items[0].ID + `","quantity":2}]}`
	waittest.For(t, "the price view", func() bool { return alice.do("POST", "/basket", body).status == 200 })
	var co struct{ OrderID string }
	alice.want(202, "POST", "/basket/checkout", `{`+buyer+`}`).decode(t, &co)
	s.stop() // at once: the checkout's event and the saga's are on their way
	s = start(t, dir, true)
	defer s.stop()
	alice = s.as("alice", false)
	waittest.For(t, "the order to be paid after the restart", func() bool {
		r := alice.do("GET", "/order/alice/"+co.OrderID, "")
		return r.status == 200 && strings.Contains(string(r.body), `"status":"PAID"`)
	})
	var st struct{ Available, Reserved int }
	s.as("root", true).want(200, "GET", "/inventory/"+phones.Items[0].ID+"/admin", "").decode(t, &st)
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
	defer s.stop()
	admin, alice := s.as("root", true), s.as("alice", false)
	var p product
	admin.want(201, "POST", "/product", `{"name":"Doomed","category":"Tools","price":3}`).decode(t, &p)
	admin.want(204, "DELETE", "/product/"+p.ID, "")
	waittest.For(t, "the inventory to know of the deletion", func() bool {
		r := admin.do("GET", "/inventory/"+p.ID+"/admin", "")
		return r.status == 200 && strings.Contains(string(r.body), `"deleted":true`)
	})
	id, _ := uuid.NewV7()
	checkout, err := events.New(events.SourceCheckout, events.TypeCheckoutBasket, events.CheckoutBasket{
		CheckoutID: id.String(), UserName: "alice", FirstName: "Ada", LastName: "L", Email: "a@b.c", Address: "x", PaymentMethod: "invoice",
		Lines:      []events.Line{{ProductID: p.ID, ProductName: "Doomed", Quantity: 1, UnitPrice: 300, LineTotal: 300}},
		TotalPrice: 300, CheckedOutAt: time.Now(),
	}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.app.Bus().Publish(t.Context(), []events.Outgoing{checkout}); err != nil {
		t.Fatal(err)
	}
	var o struct{ Status, CancelReason string }
	waittest.For(t, "the order to be cancelled", func() bool {
		r := alice.do("GET", "/order/alice/"+id.String(), "")
		if r.status != 200 {
			return false
		}
		r.decode(t, &o)
		return o.Status == "CANCELLED"
	})
	if o.CancelReason != "product_unavailable" {
		t.Fatalf("order %+v, want product_unavailable", o)
	}
}

// One checkout sent with a traceparent is one trace, continuing the caller's:
// the HTTP request, the relay publishing each event from the outbox, and
// each consumer the saga passes through, each span the child of the one
// before it.
func TestACheckoutIsOneTrace(t *testing.T) {
	s := start(t, t.TempDir(), true)
	defer s.stop()
	var phones list[product]
	s.anonymous().want(200, "GET", "/product?category=Phone", "").decode(t, &phones)
	body := `{"items":[{"productId":"` + phones.Items[0].ID + `","quantity":1}]}`
	plain := s.as("alice", false)
	waittest.For(t, "the price view", func() bool { return plain.do("POST", "/basket", body).status == 200 })
	const traceID, callerSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	alice := plain.with("traceparent", "00-"+traceID+"-"+callerSpan+"-01")
	var co struct{ OrderID string }
	alice.want(202, "POST", "/basket/checkout", `{`+buyer+`}`).decode(t, &co)
	waittest.For(t, "the order to be paid", func() bool {
		r := plain.do("GET", "/order/alice/"+co.OrderID, "")
		return r.status == 200 && strings.Contains(string(r.body), `"status":"PAID"`)
	})

	root := s.as("root", true)
	type span struct{ SpanID, ParentSpanID, Name, Kind, Status, Service string }
	var tr struct {
		TraceID string
		Spans   []span
	}
	waittest.For(t, "the trace to hold the order's payment", func() bool {
		root.want(200, "GET", "/console/api/traces/"+traceID, "").decode(t, &tr)
		return slices.ContainsFunc(tr.Spans, func(s span) bool { return s.Name == "process PaymentCaptured" })
	})
	byID := map[string]span{}
	byName := map[string]span{}
	for _, sp := range tr.Spans {
		byID[sp.SpanID], byName[sp.Name] = sp, sp
	}
	parent := func(name string) span {
		t.Helper()
		sp, ok := byName[name]
		if !ok {
			t.Fatalf("no span %q in %+v", name, tr.Spans)
		}
		return byID[sp.ParentSpanID]
	}
	http := byName["POST /basket/checkout"]
	if tr.TraceID != traceID || http.Kind != "server" || http.ParentSpanID != callerSpan {
		t.Fatalf("trace %s, HTTP span %+v: want the caller's trace and span continued", tr.TraceID, http)
	}
	for name, want := range map[string]string{
		"publish CheckoutBasket":  "POST /basket/checkout",
		"deliver CheckoutBasket":  "publish CheckoutBasket",
		"process CheckoutBasket":  "publish CheckoutBasket",
		"publish OrderPlaced":     "process CheckoutBasket",
		"process OrderPlaced":     "publish OrderPlaced",
		"publish StockReserved":   "process OrderPlaced",
		"process StockReserved":   "publish StockReserved",
		"publish PaymentCaptured": "process StockReserved",
		"process PaymentCaptured": "publish PaymentCaptured",
	} {
		if got := parent(name); got.Name != want {
			t.Errorf("parent of %q is %q, want %q", name, got.Name, want)
		}
	}
	// Each span is its service's; the stores' writes are spans of the
	// request or message that made them, in its service.
	for name, service := range map[string]string{
		"POST /basket/checkout": "basket", "publish CheckoutBasket": "basket",
		"deliver CheckoutBasket": "ordering", "process CheckoutBasket": "ordering", "publish OrderPlaced": "ordering",
		"process OrderPlaced": "inventory", "publish StockReserved": "inventory",
		"process StockReserved": "payment", "publish PaymentCaptured": "payment",
		"process PaymentCaptured": "ordering",
	} {
		if !slices.ContainsFunc(tr.Spans, func(s span) bool { return s.Name == name && s.Service == service }) {
			t.Errorf("no span %q of service %q", name, service)
		}
	}
	for service, parent := range map[string]string{
		"basket":   "POST /basket/checkout",
		"ordering": "process CheckoutBasket",
		"payment":  "process StockReserved",
	} {
		if !slices.ContainsFunc(tr.Spans, func(s span) bool {
			return s.Name == "COMMIT" && s.Service == service && byID[s.ParentSpanID].Name == parent
		}) {
			t.Errorf("no COMMIT of %s under %q", service, parent)
		}
	}

	var traces struct{ Items []struct{ TraceID string } }
	root.want(200, "GET", "/console/api/traces?limit=1000", "").decode(t, &traces)
	if !slices.ContainsFunc(traces.Items, func(x struct{ TraceID string }) bool { return x.TraceID == traceID }) {
		t.Fatalf("trace %s not listed", traceID)
	}
	plain.wantProblem(403, "GET", "/console/api/traces", "", "")
	root.wantProblem(400, "GET", "/console/api/traces?limit=0", "", "limit")
	root.wantProblem(400, "GET", "/console/api/traces/XYZ", "", "traceId")
	root.wantProblem(404, "GET", "/console/api/traces/0af7651916cd43dd8448eb211c80319c", "", "trace not found")
}

// /metrics is Prometheus text, and a checkout moves its counters: the
// request by route, the events published, the messages delivered; every
// queue and outbox has its gauges.
func TestMetricsMoveWithACheckout(t *testing.T) {
	s := start(t, t.TempDir(), true)
	defer s.stop()
	scrape := func() map[string]*dto.MetricFamily {
		t.Helper()
		r := s.anonymous().want(200, "GET", "/metrics", "")
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Fatalf("Content-Type %q, want Prometheus text", ct)
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(bytes.NewReader(r.body))
		if err != nil {
			t.Fatalf("/metrics does not parse as Prometheus text: %v", err)
		}
		return fams
	}
	// value sums the samples of family whose labels include labels.
	value := func(fams map[string]*dto.MetricFamily, family string, labels ...string) float64 {
		var sum float64
		for _, m := range fams[family].GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			match := true
			for i := 0; i < len(labels); i += 2 {
				match = match && have[labels[i]] == labels[i+1]
			}
			if match {
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
			}
		}
		return sum
	}

	var phones list[product]
	s.anonymous().want(200, "GET", "/product?category=Phone", "").decode(t, &phones)
	alice := s.as("alice", false)
	body := `{"items":[{"productId":"` + phones.Items[0].ID + `","quantity":1}]}`
	waittest.For(t, "the price view", func() bool { return alice.do("POST", "/basket", body).status == 200 })
	before := scrape()
	var co struct{ OrderID string }
	alice.want(202, "POST", "/basket/checkout", `{`+buyer+`}`).decode(t, &co)
	waittest.For(t, "the order to be paid", func() bool {
		r := alice.do("GET", "/order/alice/"+co.OrderID, "")
		return r.status == 200 && strings.Contains(string(r.body), `"status":"PAID"`)
	})
	after := scrape()

	for _, c := range []struct {
		family string
		labels []string
	}{
		{"http_server_request_duration_seconds", []string{"http_route", "/basket/checkout", "http_request_method", "POST", "http_response_status_code", "202"}},
		{"eventshop_events_published_total", []string{"event_detail_type", events.TypeCheckoutBasket}},
		{"eventshop_events_published_total", []string{"event_detail_type", events.TypePaymentCaptured}},
		{"eventshop_messages_delivered_total", []string{"messaging_destination_name", events.QueueOrderingOrders}},
		{"eventshop_messages_delivered_total", []string{"messaging_destination_name", events.QueuePaymentOrders}},
		{"messaging_process_duration_seconds", []string{"messaging_destination_name", events.QueuePaymentOrders, "messaging_system", events.SystemLocalBus}},
		{"eventshop_messages_wait_duration_seconds", []string{"messaging_destination_name", events.QueueOrderingOrders}},
		{"eventshop_orders_outcomes_total", []string{"eventshop_order_outcome", "placed"}},
		{"eventshop_orders_outcomes_total", []string{"eventshop_order_outcome", "paid"}},
	} {
		if d := value(after, c.family, c.labels...) - value(before, c.family, c.labels...); d < 1 {
			t.Errorf("%s%v moved by %v over a checkout, want at least 1", c.family, c.labels, d)
		}
	}

	hasLabel := func(family, name, value string) bool {
		return slices.ContainsFunc(after[family].GetMetric(), func(m *dto.Metric) bool {
			return slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool { return l.GetName() == name && l.GetValue() == value })
		})
	}
	for _, q := range s.app.Bus().QueueNames() {
		for _, g := range []string{"eventshop_queue_depth", "eventshop_queue_in_flight", "eventshop_queue_dead_letters"} {
			if !hasLabel(g, "messaging_destination_name", q) {
				t.Errorf("%s has no sample for queue %s", g, q)
			}
		}
	}
	for _, svc := range []string{"catalog", "basket", "ordering", "inventory", "payment"} {
		for _, g := range []string{"eventshop_outbox_lag_seconds", "eventshop_outbox_pending"} {
			if !hasLabel(g, "service_name", svc) {
				t.Errorf("%s has no sample for the %s outbox", g, svc)
			}
		}
	}
	if after["go_goroutines"] == nil || after["process_resident_memory_bytes"] == nil {
		t.Error("no Go runtime or process metrics")
	}
	// target_info carries the resource: the host's service in the namespace.
	if !hasLabel("target_info", "service_namespace", "eventshop") || !hasLabel("target_info", "service_name", telemetry.Host) {
		t.Errorf("target_info %v, want the shop's resource", after["target_info"])
	}
	// The text passes client_golang's linter, the checks of promtool check metrics.
	problems, err := promlint.New(bytes.NewReader(s.anonymous().want(200, "GET", "/metrics", "").body)).Lint()
	if err != nil || len(problems) > 0 {
		t.Errorf("/metrics lint: %v %+v", err, problems)
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

// The basket service's price view is lost (its rows deleted); a replay of
// the catalog's archived events to its queue rebuilds it, and every basket
// prices as before. A second replay, while prices change and baskets are
// written, leaves the view at the catalog's newest prices: an old event
// replayed never undoes a newer one.
func TestReplayRebuildsThePriceView(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir, false)
	defer s.stop()
	ctx := t.Context()
	admin, alice := s.as("root", true), s.as("alice", false)
	began := time.Now().Add(-time.Minute)
	var ids []string
	for i := range 3 {
		var p product
		admin.want(201, "POST", "/product", fmt.Sprintf(`{"name":"P%d","category":"Tools","price":%d.50}`, i, 10+i)).decode(t, &p)
		ids = append(ids, p.ID)
	}
	fill := fmt.Sprintf(`{"items":[{"productId":%q,"quantity":1},{"productId":%q,"quantity":2},{"productId":%q,"quantity":3}]}`, ids[0], ids[1], ids[2])
	waittest.For(t, "the price view to know the products", func() bool { return alice.do("POST", "/basket", fill).status == 200 })
	before := string(alice.want(200, "GET", "/basket/alice", "").body)

	basketDB, err := sqlitedb.Open(ctx, filepath.Join(dir, "basket.db"), "select 1")
	if err != nil {
		t.Fatal(err)
	}
	defer basketDB.Close()
	if _, err := basketDB.ExecContext(ctx, `delete from prices`); err != nil {
		t.Fatal(err)
	}
	if now := string(alice.want(200, "GET", "/basket/alice", "").body); now == before || !strings.Contains(now, `"unavailable":true`) {
		t.Fatalf("the basket without its price view: %s", now)
	}

	replay := func() int {
		n, err := s.app.Bus().Replay(ctx, localbus.ReplayRequest{Queue: events.QueueBasketPrices, From: began, To: time.Now()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	waittest.For(t, "the archive to hold the catalog's events", func() bool { return replay() >= 3 })
	waittest.For(t, "the basket to price as before", func() bool { return string(alice.do("GET", "/basket/alice", "").body) == before })

	// While prices change and baskets are written.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			admin.want(200, "PUT", "/product/"+ids[i%3], fmt.Sprintf(`{"name":"P%d","category":"Tools","price":%d.%02d}`, i%3, 20+i, i%100))
			alice.do("POST", "/basket", fill)
		}
	})
	for range 3 {
		replay()
	}
	close(stop)
	wg.Wait()
	waittest.For(t, "the price view to show the catalog's prices", func() bool {
		alice.want(200, "POST", "/basket", fill)
		var b struct {
			Items []struct {
				ProductID string      `json:"productId"`
				UnitPrice money.Cents `json:"unitPrice"`
			} `json:"items"`
		}
		alice.want(200, "GET", "/basket/alice", "").decode(t, &b)
		for _, it := range b.Items {
			var p struct{ Price money.Cents }
			admin.want(200, "GET", "/product/"+it.ProductID, "").decode(t, &p)
			if it.UnitPrice != p.Price {
				return false
			}
		}
		return len(b.Items) == 3
	})
}

// Every consumer takes the schemas' own examples (api/events), one order's
// story published in order: none ends in a dead-letter queue.
func TestConsumersTakeTheSchemasExamples(t *testing.T) {
	s := start(t, t.TempDir(), false)
	defer s.stop()
	ctx := t.Context()
	var evts []events.Outgoing
	for _, c := range events.Contracts() {
		b, err := fs.ReadFile(api.EventSchemas, eventschema.File(c.DetailType))
		if err != nil {
			t.Fatal(err)
		}
		var schema struct{ Examples []json.RawMessage }
		if err := json.Unmarshal(b, &schema); err != nil || len(schema.Examples) == 0 {
			t.Fatalf("%s has no example: %v", c.DetailType, err)
		}
		evts = append(evts, events.Outgoing{ID: "example-" + c.DetailType, Source: c.Source, DetailType: c.DetailType, Detail: schema.Examples[0], Time: time.Now()})
	}
	for _, e := range evts {
		if err := s.app.Bus().Publish(ctx, []events.Outgoing{e}); err != nil {
			t.Fatal(err)
		}
	}
	bus := s.app.Bus()
	waittest.For(t, "every queue to be empty", func() bool {
		stats, err := bus.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range stats {
			if st.Messages > 0 {
				return false
			}
		}
		return true
	})
	stats, err := bus.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range stats {
		if st.DeadLetters > 0 {
			letters, _ := bus.DeadLetters(ctx, st.Queue)
			t.Errorf("%s: %d dead letters: %+v", st.Queue, st.DeadLetters, letters)
		}
	}
}

// Every answer, to every route of the OpenAPI document and every static
// file, says nosniff; an answer to a request with credentials says no-store;
// pages and assets carry the pages' security headers; /assets/ lists nothing.
func TestEveryAnswerCarriesItsHeaders(t *testing.T) {
	s := start(t, t.TempDir(), false)
	defer s.stop()
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	check := func(c client, method, path string, authenticated bool) {
		t.Helper()
		body := ""
		if method == "POST" || method == "PUT" {
			body = "{}"
		}
		r := c.do(method, path, body)
		if got := r.header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s %s → %d without nosniff", method, path, r.status)
		}
		if authenticated && r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s %s with a token → %d, Cache-Control %q; want no-store", method, path, r.status, r.header.Get("Cache-Control"))
		}
	}
	admin := s.as("root", true)
	for path, item := range doc.Paths.Map() {
		concrete := regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(path, "x")
		for method := range item.Operations() {
			if path == "/console/api/events" {
				continue // a stream that stays open: its headers are checked by the console test
			}
			check(admin, method, concrete, true)
			check(s.anonymous(), method, concrete, false)
		}
	}
	check(s.anonymous(), "GET", "/no-such-route", false)
	err = fs.WalkDir(web.Static, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		path := "/" + p
		switch p {
		case "index.html":
			path = "/"
		case "console.html":
			path = "/console"
		}
		r := s.anonymous().do("GET", path, "")
		if r.status != 200 || r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("Content-Security-Policy") == "" ||
			r.header.Get("Permissions-Policy") != web.PermissionsPolicy {
			t.Errorf("GET %s → %d, headers %v", path, r.status, r.header)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := s.anonymous().do("GET", "/assets/", ""); r.status != 404 || strings.Contains(string(r.body), "shop.js") {
		t.Errorf("GET /assets/ → %d %s; want 404 and no listing", r.status, r.body)
	}
}

// Idle means the work is done: a checkout's whole saga has run by the time
// the shop says it is idle, without waiting for any of its steps.
func TestIdleMeansTheSagaHasRun(t *testing.T) {
	s := start(t, t.TempDir(), true)
	defer s.stop()
	alice := s.as("alice", false)
	var phones list[product]
	s.anonymous().want(200, "GET", "/product?category=Phone", "").decode(t, &phones)
	body := `{"items":[{"productId":"` + phones.Items[0].ID + `","quantity":1}]}`
	waittest.For(t, "the price view", func() bool { return alice.do("POST", "/basket", body).status == 200 })
	var co struct{ OrderID string }
	alice.want(202, "POST", "/basket/checkout", `{`+buyer+`}`).decode(t, &co)
	s.WaitIdle(t)
	var o order
	alice.want(200, "GET", "/order/alice/"+co.OrderID, "").decode(t, &o)
	if o.Status != "PAID" {
		t.Fatalf("the shop is idle with the order %s", o.Status)
	}
}
