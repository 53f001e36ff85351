package localapp_test

import (
	"bytes"
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/eventshop/eventshop/api"
	"github.com/eventshop/eventshop/internal/localapp/localapptest"
	"github.com/eventshop/eventshop/internal/waittest"
	"github.com/eventshop/eventshop/web"
)

func TestBadPageRequests(t *testing.T) {
	s := start(t, t.TempDir(), false)
	defer s.Stop()
	s.anonymous().WantProblem(400, "GET", "/product?limit=0", "", "limit")
	s.anonymous().WantProblem(400, "GET", "/product?limit=101", "", "limit")
	s.anonymous().WantProblem(400, "GET", "/product?nextToken=garbage!", "", "nextToken")
	s.as("alice", false).WantProblem(400, "GET", "/order/alice?limit=x", "", "limit")
	s.as("root", true).WantProblem(400, "GET", "/order?status=LOST", "", "status")
	s.as("root", true).WantProblem(400, "GET", "/basket/"+strings.Repeat("a", 70), "", "userName")
	s.anonymous().WantProblem(404, "GET", "/nowhere", "", "")
	s.anonymous().WantProblem(405, "PATCH", "/product", "", "GET")
	if r := s.anonymous().Want(200, "GET", "/openapi.yaml", ""); !bytes.Equal(r.Body, api.OpenAPI) {
		t.Fatal("GET /openapi.yaml does not serve the API document")
	}
}

// TestAuthorizationMatrix calls every route as nobody, as the owner (alice),
// as another user (bob) and as an admin.
func TestAuthorizationMatrix(t *testing.T) {
	s := start(t, t.TempDir(), false)
	defer s.Stop()
	admin, alice := s.as("root", true), s.as("alice", false)
	callers := []struct {
		name string
		c    client
	}{{"nobody", s.anonymous()}, {"other", s.as("bob", false)}, {"admin", admin}, {"owner", alice}}

	var p, doomed product
	admin.Want(201, "POST", "/product", `{"name":"Widget","category":"Tools","price":19.99}`).Decode(t, &p)
	admin.Want(201, "POST", "/product", `{"name":"Doomed","category":"Tools","price":1}`).Decode(t, &doomed)
	fill := `{"items":[{"productId":"` + p.ID + `","quantity":1}]}`
	waittest.For(t, "the price view", func() bool { return alice.Do("POST", "/basket", fill).Status == 200 })
	var co struct{ OrderID string }
	alice.Want(202, "POST", "/basket/checkout", `{`+buyer+`}`).Decode(t, &co)
	waittest.For(t, "alice's order to be paid", func() bool {
		r := alice.Do("GET", "/order/alice/"+co.OrderID, "")
		return r.Status == 200 && strings.Contains(string(r.Body), `"status":"PAID"`)
	})
	alice.Want(200, "POST", "/basket", fill)
	waittest.For(t, "the inventory to know the product", func() bool { return alice.Do("GET", "/inventory/"+p.ID, "").Status == 200 })

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
			r := who.c.Do(row.method, row.path, row.body)
			if r.Status != row.want[i] {
				t.Errorf("%s %s as %s → %d %s, want %d", row.method, row.path, who.name, r.Status, r.Body, row.want[i])
				continue
			}
			if r.Status == 401 && !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s %s as %s: 401 without a WWW-Authenticate: Bearer header", row.method, row.path, who.name)
			}
			if r.Status == 403 && (strings.Contains(string(r.Body), "Widget") || strings.Contains(string(r.Body), co.OrderID)) {
				t.Errorf("%s %s as %s: a 403 that tells about the data: %s", row.method, row.path, who.name, r.Body)
			}
		}
	}
	// An invalid token is a 401 on every protected route, and ignored on public ones.
	forged := localapptest.NewClient(t, s.Server.URL, "eyJhbGciOiJub25lIn0.eyJjb2duaXRvOnVzZXJuYW1lIjoiYWxpY2UifQ.")
	forged.WantProblem(401, "GET", "/basket/alice", "", "not valid")
	forged.Want(200, "GET", "/product", "")
}

func TestHostileInputChangesNothing(t *testing.T) {
	s := start(t, t.TempDir(), false)
	admin, alice := s.as("root", true), s.as("alice", false)
	var widget product
	admin.Want(201, "POST", "/product", `{"name":"Widget","category":"Tools","price":19.99}`).Decode(t, &widget)
	basket := `{"items":[{"productId":"` + widget.ID + `","quantity":2}]}`
	waittest.For(t, "the price view", func() bool { return alice.Do("POST", "/basket", basket).Status == 200 })

	alice.WantProblem(400, "POST", "/basket", `null`, "not null")
	alice.WantProblem(400, "POST", "/basket", `{"items":null}`, "items: must not be null")
	alice.WantProblem(400, "POST", "/basket", `{"items":[null]}`, "items[0]: must not be null")
	alice.WantProblem(400, "POST", "/basket", `{"ITEMS":[]}`, "ITEMS: is not a known field")
	alice.WantProblem(400, "POST", "/basket", `{"items":[],"items":[]}`, "items: appears more than once")
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "application/xml"} {
		alice.With("Content-Type", ct).WantProblem(415, "POST", "/basket", `{"items":[]}`, "Content-Type: application/json")
	}
	alice.With("Content-Type", "application/json; charset=utf-8").Want(200, "POST", "/basket", basket)
	// A checkout's buyer fields: a payment method the shop offers, one bare
	// e-mail address.
	for field, body := range map[string]string{
		"paymentMethod": `{"firstName":"A","lastName":"L","email":"ada@example.com","address":"1 St","paymentMethod":"<svg/onload=alert(1)>"}`,
		"email":         `{"firstName":"A","lastName":"L","email":"<img src=x onerror=alert(1)>@evil.example","address":"1 St","paymentMethod":"invoice"}`,
	} {
		alice.WantProblem(400, "POST", "/basket/checkout", body, field)
	}
	var b basketResp
	alice.Want(200, "GET", "/basket/alice", "").Decode(t, &b)
	if len(b.Items) != 1 || b.Items[0].Quantity != 2 {
		t.Fatalf("refused requests changed the basket: %+v", b)
	}

	admin.WantProblem(400, "POST", "/product", `{"NAME":"x","category":"c","price":1}`, "NAME: is not a known field")
	admin.WantProblem(400, "POST", "/product", `{"name":"x","category":"c","price":"19.99"}`, "price: must be a JSON number")
	admin.WantProblem(400, "PUT", "/product/"+widget.ID, `{"name":"x","category":"c","price":null}`, "price")
	admin.WantProblem(400, "PUT", "/product/"+widget.ID, `{"name":"x","category":"c","price":1,"imageFile":"../../etc/passwd"}`, "imageFile")
	var got product
	admin.Want(200, "GET", "/product/"+widget.ID, "").Decode(t, &got)
	if got.Version != 1 || string(got.Price) != "19.99" {
		t.Fatalf("refused requests changed the product: %+v", got)
	}
	if r := admin.Want(200, "GET", "/product?limit=100", ""); !bytes.HasSuffix(r.Body, []byte("}\n")) {
		t.Fatalf("a JSON response does not end with a newline: %q", r.Body)
	}
}

// Every answer, to every route of the OpenAPI document and every static
// file, says nosniff; an answer to a request with credentials says no-store;
// pages and assets carry the pages' security headers; /assets/ lists nothing.
func TestEveryAnswerCarriesItsHeaders(t *testing.T) {
	s := start(t, t.TempDir(), false)
	defer s.Stop()
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
		r := c.Do(method, path, body)
		if got := r.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s %s → %d without nosniff", method, path, r.Status)
		}
		if authenticated && r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s %s with a token → %d, Cache-Control %q; want no-store", method, path, r.Status, r.Header.Get("Cache-Control"))
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
		r := s.anonymous().Do("GET", path, "")
		if r.Status != 200 || r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Content-Security-Policy") == "" ||
			r.Header.Get("Permissions-Policy") != web.PermissionsPolicy {
			t.Errorf("GET %s → %d, headers %v", path, r.Status, r.Header)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := s.anonymous().Do("GET", "/assets/", ""); r.Status != 404 || strings.Contains(string(r.Body), "shop.js") {
		t.Errorf("GET /assets/ → %d %s; want 404 and no listing", r.Status, r.Body)
	}
}
