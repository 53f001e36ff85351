package app_test

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/eventstest"
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
				if res, _ := a.List(t.Context(), "", page.Request{Limit: 10}); len(res.Items) != 0 {
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

// placed places the command's order and returns the store, emptied of the
// OrderPlaced event it emitted.
func placed(t *testing.T) (*app.Orders, *sqlite.Store, app.PlaceOrder) {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "ordering.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	a := app.New(s)
	c := command()
	if _, err := a.Place(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	evts := relayed(t, s)
	if len(evts) != 1 || evts[0].DetailType != events.TypeOrderPlaced {
		t.Fatalf("placing emitted %+v, want one OrderPlaced", evts)
	}
	var p events.OrderPlaced
	if err := json.Unmarshal(evts[0].Detail, &p); err != nil || p.OrderID != c.CheckoutID || p.UserName != c.UserName || len(p.Lines) != 1 || p.Lines[0].Quantity != 2 || p.TotalPrice != c.TotalPrice || p.PaymentMethod != c.PaymentMethod {
		t.Fatalf("OrderPlaced %+v, %v", p, err)
	}
	return a, s, c
}

func relayed(t *testing.T, s *sqlite.Store) []events.Outgoing {
	t.Helper()
	var c eventstest.Collector
	if _, err := s.Outbox().Flush(t.Context(), &c); err != nil {
		t.Fatal(err)
	}
	return c.Events()
}

func TestTheOrdersLife(t *testing.T) {
	a, s, c := placed(t)
	ctx := t.Context()
	for _, step := range []struct {
		to      string
		applied bool
	}{
		{ordering.StatusReserved, true},
		{ordering.StatusReserved, false}, // a repeated StockReserved
		{ordering.StatusPaid, true},
	} {
		if ok, err := a.Apply(ctx, app.Move{OrderID: c.CheckoutID, UserName: c.UserName, To: step.to}); err != nil || ok != step.applied {
			t.Fatalf("Apply %s = %v, %v; want %v", step.to, ok, err, step.applied)
		}
	}
	if evts := relayed(t, s); len(evts) != 0 {
		t.Fatalf("reserving and paying emitted %+v", evts)
	}
	o, err := a.Ship(ctx, c.UserName, c.CheckoutID)
	if err != nil || o.Status != ordering.StatusShipped || o.Version != 4 || len(o.History) != 4 {
		t.Fatalf("Ship = %+v, %v", o, err)
	}
	if evts := relayed(t, s); len(evts) != 1 || evts[0].DetailType != events.TypeOrderShipped {
		t.Fatalf("shipping emitted %+v", evts)
	}
	var terr *ordering.TransitionError
	if _, err := a.Cancel(ctx, c.UserName, c.CheckoutID); !errors.As(err, &terr) {
		t.Fatalf("cancel of a shipped order: %v, want a TransitionError", err)
	}
	if ok, err := a.Apply(ctx, app.Move{OrderID: c.CheckoutID, UserName: c.UserName, To: ordering.StatusCancelled, Reason: ordering.ReasonPaymentDeclined}); ok || err != nil {
		t.Fatalf("a late decline after shipping: %v, %v; want ignored", ok, err)
	}
	got, _ := a.Get(ctx, c.UserName, c.CheckoutID)
	if got.Status != ordering.StatusShipped || got.Version != 4 {
		t.Fatalf("after refused changes: %+v", got)
	}
}

func TestCancelFromPaidIsRefunded(t *testing.T) {
	a, s, c := placed(t)
	ctx := t.Context()
	for _, to := range []string{ordering.StatusReserved, ordering.StatusPaid} {
		if _, err := a.Apply(ctx, app.Move{OrderID: c.CheckoutID, UserName: c.UserName, To: to}); err != nil {
			t.Fatal(err)
		}
	}
	o, err := a.Cancel(ctx, c.UserName, c.CheckoutID)
	if err != nil || o.Status != ordering.StatusCancelled || o.CancelReason != ordering.ReasonCustomerCancelled {
		t.Fatalf("Cancel = %+v, %v", o, err)
	}
	evts := relayed(t, s)
	var cancelled events.OrderCancelled
	if len(evts) != 1 || json.Unmarshal(evts[0].Detail, &cancelled) != nil || cancelled.From != ordering.StatusPaid || cancelled.Reason != ordering.ReasonCustomerCancelled || cancelled.TotalPrice != c.TotalPrice || len(cancelled.Lines) != 1 {
		t.Fatalf("cancelling emitted %+v (%+v)", evts, cancelled)
	}
	for want := range []bool{true, false} {
		ok, err := a.RecordRefund(ctx, c.UserName, c.CheckoutID)
		if err != nil || ok != (want == 0) {
			t.Fatalf("RecordRefund #%d = %v, %v", want+1, ok, err)
		}
	}
	got, _ := a.Get(ctx, c.UserName, c.CheckoutID)
	if last := got.History[len(got.History)-1]; last.Status != ordering.StatusRefunded || len(got.History) != 5 {
		t.Fatalf("history %+v", got.History)
	}
}

func TestSagaCancellationsGiveTheirReason(t *testing.T) {
	a, s, c := placed(t)
	if ok, err := a.Apply(t.Context(), app.Move{OrderID: c.CheckoutID, UserName: c.UserName, To: ordering.StatusCancelled, Reason: ordering.ReasonOutOfStock, Unavailable: []string{"p1"}}); !ok || err != nil {
		t.Fatalf("Apply = %v, %v", ok, err)
	}
	got, _ := a.Get(t.Context(), c.UserName, c.CheckoutID)
	if got.Status != ordering.StatusCancelled || got.CancelReason != ordering.ReasonOutOfStock || !got.Lines[0].Unavailable {
		t.Fatalf("order %+v; want it cancelled out_of_stock, its line of p1 unavailable", got)
	}
	if evts := relayed(t, s); len(evts) != 1 || !strings.Contains(string(evts[0].Detail), `"from":"PLACED"`) {
		t.Fatalf("emitted %+v", evts)
	}
}

// A customer cancels a RESERVED order while its payment is being captured:
// PaymentCaptured finds it cancelled, and the payment service refunds. The
// history shows the charge and the refund, once each, whichever of the two
// events arrives first and however often.
func TestACaptureThatRacedTheCancellationIsInTheHistory(t *testing.T) {
	for name, arrivals := range map[string][]string{
		"capture, then refund":   {"capture", "refund", "capture", "refund"},
		"refund overtakes":       {"refund", "capture", "refund"},
		"refund, twice, no more": {"refund", "refund"},
	} {
		t.Run(name, func(t *testing.T) {
			a, _, c := placed(t)
			ctx := t.Context()
			if _, err := a.Apply(ctx, app.Move{OrderID: c.CheckoutID, UserName: c.UserName, To: ordering.StatusReserved}); err != nil {
				t.Fatal(err)
			}
			if _, err := a.Cancel(ctx, c.UserName, c.CheckoutID); err != nil {
				t.Fatal(err)
			}
			for _, e := range arrivals {
				var err error
				if e == "capture" {
					var paid bool
					if paid, err = a.Apply(ctx, app.Move{OrderID: c.CheckoutID, UserName: c.UserName, Via: ordering.StatusReserved, To: ordering.StatusPaid}); paid {
						t.Fatal("a cancelled order became PAID")
					}
					if err == nil {
						_, err = a.RecordCapture(ctx, c.UserName, c.CheckoutID)
					}
				} else {
					_, err = a.RecordRefund(ctx, c.UserName, c.CheckoutID)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			got, _ := a.Get(ctx, c.UserName, c.CheckoutID)
			var path []string
			for _, h := range got.History {
				path = append(path, h.Status)
			}
			want := []string{"PLACED", "RESERVED", "CANCELLED", "PAYMENT_CAPTURED", "REFUNDED"}
			if got.Status != ordering.StatusCancelled || !reflect.DeepEqual(path, want) {
				t.Fatalf("order %s, history %v; want CANCELLED through %v", got.Status, path, want)
			}
		})
	}
	t.Run("a capture event is a charge; a refund needs a cancellation", func(t *testing.T) {
		a, _, c := placed(t)
		if _, err := a.Apply(t.Context(), app.Move{OrderID: c.CheckoutID, UserName: c.UserName, To: ordering.StatusCancelled, Reason: ordering.ReasonOutOfStock}); err != nil {
			t.Fatal(err)
		}
		if ok, err := a.RecordCapture(t.Context(), c.UserName, c.CheckoutID); err != nil || !ok {
			t.Fatalf("RecordCapture = %v, %v", ok, err) // a capture event is a charge
		}
		a2, _, c2 := placed(t)
		if ok, err := a2.RecordRefund(t.Context(), c2.UserName, c2.CheckoutID); ok || err != nil {
			t.Fatalf("the refund of an order not cancelled: %v, %v", ok, err)
		}
	})
}

// The admin's list: every order with no status given, those of one status
// with one, and a status the orders do not have refused.
func TestList(t *testing.T) {
	a, _, c := placed(t)
	for status, want := range map[string]int{"": 1, ordering.StatusPlaced: 1, ordering.StatusPaid: 0} {
		res, err := a.List(t.Context(), status, page.Request{Limit: 10})
		if err != nil || len(res.Items) != want || want == 1 && res.Items[0].OrderID != c.CheckoutID {
			t.Errorf("List(%q) = %+v, %v; want %d orders", status, res.Items, err, want)
		}
	}
	var verr *validation.Error
	if _, err := a.List(t.Context(), "LOST", page.Request{Limit: 10}); !errors.As(err, &verr) || verr.Field != "status" {
		t.Errorf("List(LOST) = %v, want a validation error on status", err)
	}
}

// A payment captured before its StockReserved arrived moves the order
// through RESERVED to PAID: the history has every step, in order.
func TestAPaymentThatOvertookItsReservation(t *testing.T) {
	a, _, c := placed(t)
	paid, err := a.Apply(t.Context(), app.Move{OrderID: c.CheckoutID, UserName: c.UserName, Via: ordering.StatusReserved, To: ordering.StatusPaid})
	if !paid || err != nil {
		t.Fatalf("Apply via RESERVED to PAID = %v, %v", paid, err)
	}
	got, _ := a.Get(t.Context(), c.UserName, c.CheckoutID)
	var path []string
	for _, h := range got.History {
		path = append(path, h.Status)
	}
	if got.Status != ordering.StatusPaid || !slices.Equal(path, []string{ordering.StatusPlaced, ordering.StatusReserved, ordering.StatusPaid}) {
		t.Fatalf("order %s with history %v; want PAID through RESERVED", got.Status, path)
	}
	// The StockReserved that comes late changes nothing.
	if applied, err := a.Apply(t.Context(), app.Move{OrderID: c.CheckoutID, UserName: c.UserName, To: ordering.StatusReserved}); applied || err != nil {
		t.Fatalf("a late StockReserved: %v, %v", applied, err)
	}
}
