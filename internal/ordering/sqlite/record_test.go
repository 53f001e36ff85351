package sqlite

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/eventshop/eventshop/internal/ordering"
)

// storedBody is an order as the body column has kept it since the first
// release; the store must go on reading it, and writing the same.
const storedBody = `{"orderId":"o1","userName":"ada","status":"PLACED","lines":[{"productId":"p1","productName":"Widget","color":"red","quantity":2,"unitPrice":19.99,"lineTotal":39.98}],"totalPrice":39.98,"firstName":"Ada","lastName":"Lovelace","email":"ada@example.com","address":"1 St","paymentMethod":"invoice","orderDate":"2026-01-02T03:04:05Z"}`

var storedOrder = ordering.Order{
	OrderID: "o1", UserName: "ada", Status: ordering.StatusPlaced,
	Lines:      []ordering.Line{{ProductID: "p1", ProductName: "Widget", Color: "red", Quantity: 2, UnitPrice: 1999, LineTotal: 3998}},
	TotalPrice: 3998, FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com", Address: "1 St",
	PaymentMethod: "invoice", OrderDate: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
}

func TestStoredFormatIsPinned(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "ordering.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.db.ExecContext(t.Context(), `insert into orders (user_name, order_id, body) values ('ada', 'o1', ?)`, storedBody); err != nil {
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
	var body string
	if err := s.db.QueryRowContext(t.Context(), `select body from orders where order_id = 'o2'`).Scan(&body); err != nil {
		t.Fatal(err)
	}
	if want := `{"orderId":"o2"` + storedBody[len(`{"orderId":"o1"`):]; body != want {
		t.Fatalf("wrote %s\nwant  %s", body, want)
	}
}
