package httpapi_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventshop/eventshop/internal/auth"
	"github.com/eventshop/eventshop/internal/idempotency/idemtest"
	"github.com/eventshop/eventshop/internal/ordering"
	"github.com/eventshop/eventshop/internal/ordering/app"
	"github.com/eventshop/eventshop/internal/ordering/httpapi"
	"github.com/eventshop/eventshop/internal/ordering/sqlite"
	"github.com/eventshop/eventshop/internal/rest/resttest"
)

// The API's answers, byte for byte: what the OpenAPI document and the
// clients built on it read.
func TestResponsesArePinned(t *testing.T) {
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "ordering.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	o := ordering.Order{
		OrderID: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", UserName: "alice", Status: ordering.StatusCancelled,
		Lines: []ordering.Line{{ProductID: "p1", ProductName: "Widget", Color: "red", Quantity: 2, UnitPrice: 1999, LineTotal: 3998},
			{ProductID: "p2", ProductName: "Gadget", Quantity: 1, UnitPrice: 500, LineTotal: 500, Unavailable: true}},
		TotalPrice: 4498, FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com", Address: "1 St", PaymentMethod: "invoice",
		OrderDate: at, CancelReason: ordering.ReasonOutOfStock,
		History: []ordering.Change{{Status: ordering.StatusPlaced, At: at}, {Status: ordering.StatusCancelled, At: at.Add(time.Minute), Reason: ordering.ReasonOutOfStock}},
		Version: 2,
	}
	if err := store.Create(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	httpapi.Register(mux, app.New(store), slog.New(slog.DiscardHandler), idemtest.Guard(t))
	h := resttest.Handler(mux, auth.Claims{Subject: "s", UserName: "root", Groups: []string{auth.AdminGroup}})
	order := `{"orderId":"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","userName":"alice","status":"CANCELLED",` +
		`"lines":[{"productId":"p1","productName":"Widget","color":"red","quantity":2,"unitPrice":19.99,"lineTotal":39.98},` +
		`{"productId":"p2","productName":"Gadget","quantity":1,"unitPrice":5.00,"lineTotal":5.00,"unavailable":true}],"totalPrice":44.98,` +
		`"firstName":"Ada","lastName":"Lovelace","email":"ada@example.com","address":"1 St","paymentMethod":"invoice","orderDate":"2026-01-02T03:04:05Z",` +
		`"cancelReason":"out_of_stock","history":[{"status":"PLACED","at":"2026-01-02T03:04:05Z"},{"status":"CANCELLED","at":"2026-01-02T03:05:05Z","reason":"out_of_stock"}],"version":2}`
	for path, want := range map[string]string{
		"/order/alice/" + o.OrderID: order,
		"/order/alice":              `{"items":[` + order + `]}`,
		"/order?status=CANCELLED":   `{"items":[` + order + `]}`,
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if got := strings.TrimSpace(rec.Body.String()); rec.Code != 200 || got != want {
			t.Errorf("GET %s → %d %s\nwant 200 %s", path, rec.Code, got, want)
		}
	}
}
