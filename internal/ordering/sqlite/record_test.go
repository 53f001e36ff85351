package sqlite

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/eventshop/eventshop/internal/ordering"
)

// firstBody is an order as the body column kept it before orders had a
// history and a version; the store must go on reading it, as version 1.
const firstBody = `{"orderId":"o1","userName":"ada","status":"PLACED","lines":[{"productId":"p1","productName":"Widget","color":"red","quantity":2,"unitPrice":19.99,"lineTotal":39.98}],"totalPrice":39.98,"firstName":"Ada","lastName":"Lovelace","email":"ada@example.com","address":"1 St","paymentMethod":"invoice","orderDate":"2026-01-02T03:04:05Z"}`

// storedBody is an order as the body column keeps it now; the store must go
// on writing and reading the same.
const storedBody = `{"orderId":"o2","userName":"ada","status":"CANCELLED","lines":[{"productId":"p1","productName":"Widget","color":"red","quantity":2,"unitPrice":19.99,"lineTotal":39.98}],"totalPrice":39.98,"firstName":"Ada","lastName":"Lovelace","email":"ada@example.com","address":"1 St","paymentMethod":"invoice","orderDate":"2026-01-02T03:04:05Z","cancelReason":"customer_cancelled","history":[{"status":"PLACED","at":"2026-01-02T03:04:05Z"},{"status":"CANCELLED","at":"2026-01-02T04:00:00Z","reason":"customer_cancelled"}],"version":2}`

var placedAt = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

var storedOrder = ordering.Order{
	OrderID: "o1", UserName: "ada", Status: ordering.StatusPlaced,
	Lines:      []ordering.Line{{ProductID: "p1", ProductName: "Widget", Color: "red", Quantity: 2, UnitPrice: 1999, LineTotal: 3998}},
	TotalPrice: 3998, FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com", Address: "1 St",
	PaymentMethod: "invoice", OrderDate: placedAt,
	History: []ordering.Change{{Status: ordering.StatusPlaced, At: placedAt}}, Version: 1,
}

func TestStoredFormatIsPinned(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "ordering.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.DB.ExecContext(t.Context(), `insert into orders (user_name, order_id, body) values ('ada', 'o1', ?)`, firstBody); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(t.Context(), "ada", "o1")
	if err != nil || !reflect.DeepEqual(got, storedOrder) {
		t.Fatalf("read %+v, %v\nwant %+v", got, err, storedOrder)
	}
	o := storedOrder
	o.OrderID = "o2"
	if err := s.Create(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	o.Status, o.CancelReason, o.Version = ordering.StatusCancelled, ordering.ReasonCustomerCancelled, 2
	o.History = append(o.History, ordering.Change{Status: ordering.StatusCancelled, At: time.Date(2026, 1, 2, 4, 0, 0, 0, time.UTC), Reason: ordering.ReasonCustomerCancelled})
	if err := s.Update(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	var body string
	if err := s.DB.QueryRowContext(t.Context(), `select body from orders where order_id = 'o2'`).Scan(&body); err != nil {
		t.Fatal(err)
	}
	if body != storedBody {
		t.Fatalf("wrote %s\nwant  %s", body, storedBody)
	}
	if got, err := s.Get(t.Context(), "ada", "o2"); err != nil || !reflect.DeepEqual(got, o) {
		t.Fatalf("read back %+v, %v", got, err)
	}
	// An order stored before versions updates from version 1.
	first := storedOrder
	first.Status, first.Version = ordering.StatusReserved, 2
	first.History = append(first.History, ordering.Change{Status: ordering.StatusReserved, At: placedAt})
	if err := s.Update(t.Context(), first); err != nil {
		t.Fatalf("update of an order stored before versions: %v", err)
	}
}
