package app_test

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/eventshop/eventshop/internal/ordering"
	"github.com/eventshop/eventshop/internal/ordering/app"
	"github.com/eventshop/eventshop/internal/ordering/sqlite"
	"github.com/eventshop/eventshop/internal/page"
	"github.com/eventshop/eventshop/internal/validation"
)

func setup(t *testing.T) *app.Orders {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "ordering.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return app.New(s)
}

var checkedOut = time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("CET", 3600))

func command() app.PlaceOrder {
	return app.PlaceOrder{
		CheckoutID: "0193a1b2-c3d4-7000-8000-000000000001", UserName: "ada",
		FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com", Address: "1 St", PaymentMethod: "invoice",
		Lines:      []ordering.Line{{ProductID: "p1", ProductName: "Widget", Quantity: 2, UnitPrice: 19_99, LineTotal: 39_98}},
		TotalPrice: 39_98, CheckedOutAt: checkedOut,
	}
}

func TestPlace(t *testing.T) {
	tests := []struct {
		name   string
		change func(*app.PlaceOrder)
		field  string // the invalid field, or "" when the order is placed
	}{
		{"valid", func(*app.PlaceOrder) {}, ""},
		{"bad checkout id", func(c *app.PlaceOrder) { c.CheckoutID = "a/b" }, "checkoutId"},
		{"bad user name", func(c *app.PlaceOrder) { c.UserName = "ada lovelace" }, "userName"},
		{"no lines", func(c *app.PlaceOrder) { c.Lines = nil }, "lines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := setup(t)
			c := command()
			tt.change(&c)
			created, err := a.Place(t.Context(), c)
			if tt.field != "" {
				var verr *validation.Error
				if created || !errors.As(err, &verr) || verr.Field != tt.field {
					t.Fatalf("Place = %v, %v; want a validation error on %s", created, err, tt.field)
				}
				if res, _ := a.List(t.Context(), page.Request{Limit: 10}); len(res.Items) != 0 {
					t.Fatalf("a refused command stored %+v", res.Items)
				}
				return
			}
			if !created || err != nil {
				t.Fatalf("Place = %v, %v", created, err)
			}
			got, err := a.Get(t.Context(), c.UserName, c.CheckoutID)
			want := ordering.Order{
				OrderID: c.CheckoutID, UserName: c.UserName, Status: ordering.StatusPlaced, Lines: c.Lines, TotalPrice: c.TotalPrice,
				FirstName: c.FirstName, LastName: c.LastName, Email: c.Email, Address: c.Address, PaymentMethod: c.PaymentMethod,
				OrderDate: checkedOut.UTC(),
				History:   []ordering.Change{{Status: ordering.StatusPlaced, At: checkedOut.UTC()}}, Version: 1,
			}
			if err != nil || !reflect.DeepEqual(got, want) || got.OrderDate.Location() != time.UTC {
				t.Fatalf("stored %+v, %v\nwant %+v", got, err, want)
			}
		})
	}
}

func TestPlaceIsIdempotent(t *testing.T) {
	a := setup(t)
	c := command()
	if created, err := a.Place(t.Context(), c); !created || err != nil {
		t.Fatalf("first Place = %v, %v", created, err)
	}
	again := c
	again.TotalPrice = 1 // a redelivery never rewrites the order
	if created, err := a.Place(t.Context(), again); created || err != nil {
		t.Fatalf("second Place = %v, %v; want false, nil", created, err)
	}
	res, err := a.ListByUser(t.Context(), "ada", page.Request{Limit: 10})
	if err != nil || len(res.Items) != 1 || res.Items[0].TotalPrice != c.TotalPrice {
		t.Fatalf("orders %+v, %v; want the first one only", res.Items, err)
	}
}

func TestReadsValidateTheirInput(t *testing.T) {
	a := setup(t)
	var verr *validation.Error
	if _, err := a.Get(t.Context(), "ada lovelace", "o1"); !errors.As(err, &verr) || verr.Field != "userName" {
		t.Errorf("Get with a bad user name: %v", err)
	}
	if _, err := a.Get(t.Context(), "ada", "o/1"); !errors.As(err, &verr) || verr.Field != "orderId" {
		t.Errorf("Get with a bad order id: %v", err)
	}
	if _, err := a.Get(t.Context(), "ada", "o1"); !errors.Is(err, ordering.ErrNotFound) {
		t.Errorf("Get of a missing order: %v", err)
	}
	if _, err := a.ListByUser(t.Context(), ".ada", page.Request{Limit: 1}); !errors.As(err, &verr) || verr.Field != "userName" {
		t.Errorf("ListByUser with a bad user name: %v", err)
	}
}
