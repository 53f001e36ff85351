package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/eventshop/eventshop/internal/basket"
	"github.com/eventshop/eventshop/internal/basket/app"
	"github.com/eventshop/eventshop/internal/basket/sqlite"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/eventstest"
	"github.com/eventshop/eventshop/internal/validation"
)

var buyer = app.Buyer{FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com", Address: "1 St", PaymentMethod: "invoice"}

func setup(t *testing.T) (*app.Baskets, *sqlite.Store) {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "basket.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	a := app.New(s, s)
	prices := app.NewPrices(s)
	ctx := context.Background()
	for _, p := range []app.ChangePrice{
		{ProductID: "p1", Name: "Widget", Price: 1999, Version: 1},
		{ProductID: "p2", Name: "Gadget", Price: 500, Version: 1},
	} {
		if _, err := prices.Change(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	return a, s
}

func relayed(t *testing.T, s *sqlite.Store) []events.Outgoing {
	t.Helper()
	var c eventstest.Collector
	if _, err := s.Outbox().Flush(t.Context(), &c); err != nil {
		t.Fatal(err)
	}
	return c.Events()
}

func TestCheckoutEmitsPricedSnapshotOnce(t *testing.T) {
	ctx := context.Background()
	a, s := setup(t)
	prices := app.NewPrices(s)
	if _, err := a.Replace(ctx, "alice", []basket.Item{{ProductID: "p1", Quantity: 3, Color: "red"}, {ProductID: "p2", Quantity: 2}}); err != nil {
		t.Fatal(err)
	}
	// A price change after the basket was filled: checkout prices from the view as it is now.
	if _, err := prices.Change(ctx, app.ChangePrice{ProductID: "p2", Name: "Gadget", Price: 600, Version: 2}); err != nil {
		t.Fatal(err)
	}
	id, err := a.Checkout(ctx, "alice", buyer, "key-1")
	if err != nil {
		t.Fatal(err)
	}
	// The same request again (its answer lost to a crash) finds its order; any
	// other checkout of the emptied basket is refused.
	again, err := a.Checkout(ctx, "alice", buyer, "key-1")
	if err != nil || again != id {
		t.Fatalf("retried checkout = %q, %v; want %q", again, err, id)
	}
	for _, key := range []string{"", "key-2"} {
		if other, err := a.Checkout(ctx, "alice", buyer, key); !errors.Is(err, basket.ErrEmpty) {
			t.Fatalf("checkout of the emptied basket with key %q = %q, %v; want ErrEmpty", key, other, err)
		}
	}
	evts := relayed(t, s)
	if len(evts) != 1 {
		t.Fatalf("%d events, want 1 CheckoutBasket", len(evts))
	}
	e := evts[0]
	if e.Source != "com.swn.basket.checkoutbasket" || e.DetailType != "CheckoutBasket" {
		t.Fatalf("event %s/%s", e.Source, e.DetailType)
	}
	var c events.CheckoutBasket
	if err := json.Unmarshal(e.Detail, &c); err != nil {
		t.Fatal(err)
	}
	if c.CheckoutID != id || c.UserName != "alice" || c.TotalPrice != 59_97+12_00 || len(c.Lines) != 2 || c.Lines[1].UnitPrice != 600 || c.Email != buyer.Email || c.CheckedOutAt.IsZero() {
		t.Fatalf("checkout detail = %+v", c)
	}
	b, err := a.Get(ctx, "alice")
	if err != nil || len(b.Items) != 0 {
		t.Fatalf("basket after checkout = %+v, %v", b, err)
	}
}

func TestConcurrentCheckoutsMakeOneEvent(t *testing.T) {
	ctx := context.Background()
	a, s := setup(t)
	if _, err := a.Replace(ctx, "bob", []basket.Item{{ProductID: "p1", Quantity: 1}}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	ids := make([]string, 4)
	errs := make([]error, 4)
	for i := range ids {
		wg.Go(func() { ids[i], errs[i] = a.Checkout(ctx, "bob", buyer, "") })
	}
	wg.Wait()
	placed := 0
	for i := range ids {
		switch {
		case errs[i] == nil:
			placed++
		case !errors.Is(errs[i], basket.ErrEmpty) && !errors.Is(errs[i], basket.ErrVersionConflict):
			t.Fatalf("checkout %d: %v", i, errs[i])
		}
	}
	if placed != 1 {
		t.Fatalf("%d checkouts placed an order (%v / %v), want 1", placed, ids, errs)
	}
	if n := len(relayed(t, s)); n != 1 {
		t.Fatalf("%d CheckoutBasket events, want 1", n)
	}
}

func TestCheckoutRefusals(t *testing.T) {
	ctx := context.Background()
	a, s := setup(t)
	if _, err := a.Checkout(ctx, "nobody", buyer, ""); !errors.Is(err, basket.ErrEmpty) {
		t.Errorf("empty basket: %v, want ErrEmpty", err)
	}
	if _, err := a.Replace(ctx, "carol", []basket.Item{{ProductID: "p2", Quantity: 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.NewPrices(s).Remove(ctx, app.RemoveProduct{ProductID: "p2", Version: 2}); err != nil {
		t.Fatal(err)
	}
	var unknown *basket.UnknownProductError
	if _, err := a.Checkout(ctx, "carol", buyer, ""); !errors.As(err, &unknown) || unknown.ProductID != "p2" {
		t.Errorf("deleted product: %v, want UnknownProductError p2", err)
	}
	bad := buyer
	bad.Email = "not-an-address"
	if _, err := a.Checkout(ctx, "carol", bad, ""); err == nil {
		t.Error("accepted a bad email")
	}
}

func TestReplaceRefusesUnknownProducts(t *testing.T) {
	a, _ := setup(t)
	_, err := a.Replace(context.Background(), "dave", []basket.Item{{ProductID: "p1", Quantity: 1}, {ProductID: "ghost", Quantity: 1}})
	var unknown *basket.UnknownProductError
	if !errors.As(err, &unknown) || unknown.ProductID != "ghost" {
		t.Fatalf("err = %v, want UnknownProductError ghost", err)
	}
	if b, _ := a.Get(context.Background(), "dave"); len(b.Items) != 0 {
		t.Fatalf("a refused basket was stored: %+v", b)
	}
}

// racingStore replaces the basket just before each Put (deleting it first
// when deleteFirst is set), as a POST /basket (after a DELETE
// /basket/{userName}) would between a checkout's read and its write.
type racingStore struct {
	basket.Store
	items       []basket.Item
	deleteFirst bool
}

func (r racingStore) Put(ctx context.Context, b basket.Basket, evts ...events.Outgoing) error {
	if err := r.race(ctx, b.UserName); err != nil {
		return err
	}
	return r.Store.Put(ctx, b, evts...)
}

// PutIfPrices races as Put does: a checkout priced from the kept prices
// writes with it.
func (r racingStore) PutIfPrices(ctx context.Context, b basket.Basket, prices []basket.Price, evts ...events.Outgoing) error {
	if err := r.race(ctx, b.UserName); err != nil {
		return err
	}
	return r.Store.PutIfPrices(ctx, b, prices, evts...)
}

func (r racingStore) race(ctx context.Context, userName string) error {
	if r.deleteFirst {
		if err := r.Store.Delete(ctx, userName); err != nil {
			return err
		}
	}
	_, err := r.Store.Replace(ctx, userName, r.items)
	return err
}

// A checkout whose basket is replaced (or deleted and made again, which
// once restarted its versions) between its read and its write checks out
// neither basket: every attempt loses, and no event is made.
func TestCheckoutRacingAReplaceChecksOutNeither(t *testing.T) {
	for _, deleteFirst := range []bool{false, true} {
		a, s := setup(t)
		if _, err := a.Replace(t.Context(), "erin", []basket.Item{{ProductID: "p1", Quantity: 1}}); err != nil {
			t.Fatal(err)
		}
		replaced := []basket.Item{{ProductID: "p2", Quantity: 5}}
		racing := app.New(racingStore{Store: s, items: replaced, deleteFirst: deleteFirst}, s)
		if _, err := racing.Checkout(t.Context(), "erin", buyer, ""); !errors.Is(err, basket.ErrVersionConflict) {
			t.Fatalf("delete first %v: Checkout racing on every attempt: %v, want ErrVersionConflict", deleteFirst, err)
		}
		if got, err := a.Get(t.Context(), "erin"); err != nil || len(got.Items) != 1 || got.Items[0].ProductID != "p2" {
			t.Fatalf("delete first %v: basket after the race = %+v, %v; want the replacing write's", deleteFirst, got, err)
		}
		if n := len(relayed(t, s)); n != 0 {
			t.Fatalf("delete first %v: %d events from checkouts that lost every race, want none", deleteFirst, n)
		}
	}
}

func TestBuyerValidate(t *testing.T) {
	tests := []struct {
		email string
		ok    bool
	}{
		{"ada@example.com", true},
		{"a@b", true}, // the shortest: one character each side of the @
		{"@example.com", false},
		{"ada@", false},
		{"ada.example.com", false},
		{"", false},
		{"<img src=x onerror=alert(1)>@evil.example", false},
		{"Ada <ada@example.com>", false}, // a display name: the address alone, please
		{strings.Repeat("a", 65) + "@example.com", false},
		{"ada@" + strings.Repeat("d", 250) + ".com", false},
	}
	for _, tt := range tests {
		b := buyer
		b.Email = tt.email
		var verr *validation.Error
		err := b.Validate()
		if tt.ok != (err == nil) || (err != nil && (!errors.As(err, &verr) || verr.Field != "email")) {
			t.Errorf("email %q: %v, want ok = %v", tt.email, err, tt.ok)
		}
	}
	for field, change := range map[string]func(*app.Buyer){
		"firstName":     func(b *app.Buyer) { b.FirstName = "" },
		"lastName":      func(b *app.Buyer) { b.LastName = strings.Repeat("l", 101) },
		"address":       func(b *app.Buyer) { b.Address = strings.Repeat("a", 501) },
		"paymentMethod": func(b *app.Buyer) { b.PaymentMethod = "<svg/onload=alert(1)>" },
	} {
		b := buyer
		change(&b)
		var verr *validation.Error
		if err := b.Validate(); !errors.As(err, &verr) || verr.Field != field {
			t.Errorf("%s: %v", field, err)
		}
	}
}

func TestGetPricesTheStoredBasket(t *testing.T) {
	a, _ := setup(t)
	if _, err := a.Replace(t.Context(), "frank", []basket.Item{{ProductID: "p1", Quantity: 2}}); err != nil {
		t.Fatal(err)
	}
	b, err := a.Get(t.Context(), "frank")
	if err != nil || len(b.Items) != 1 || b.TotalPrice != 2*1999 || b.Items[0].ProductName != "Widget" {
		t.Fatalf("Get = %+v, %v", b, err)
	}
	var verr *validation.Error
	if _, err := a.Get(t.Context(), "frank smith"); !errors.As(err, &verr) {
		t.Fatalf("Get with a bad user name: %v", err)
	}
}

// Replace answers with the basket it stored, priced by the view whatever
// the caller thought the prices were, and its version moves on with each
// write.
func TestReplaceAnswersThePricedBasket(t *testing.T) {
	a, _ := setup(t)
	for version := int64(1); version <= 2; version++ {
		got, err := a.Replace(t.Context(), "gina", []basket.Item{{ProductID: "p1", Quantity: 3, Color: "red"}, {ProductID: "p2", Quantity: 1}})
		if err != nil {
			t.Fatal(err)
		}
		if got.UserName != "gina" || len(got.Items) != 2 || got.Items[0].UnitPrice != 1999 || got.Items[0].LineTotal != 5997 ||
			got.Items[0].ProductName != "Widget" || got.TotalPrice != 6497 || got.Version != version {
			t.Fatalf("write %d answered %+v; want Widget ×3 at 19.99 and Gadget at 5.00, 64.97, version %d", version, got, version)
		}
	}
}
