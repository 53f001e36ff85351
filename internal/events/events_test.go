package events_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/eventshop/eventshop/internal/events"
)

func TestEnvelopeRoundTrip(t *testing.T) {
	o, err := events.New(context.Background(), events.SourceCheckout, events.TypeCheckoutBasket, events.CheckoutBasket{CheckoutID: "c1", TotalPrice: 5997}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(o.Wrap("123456789012", "eu-west-1"))
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("envelope lacks %q: %s", k, b)
		}
	}
	env, err := events.Unwrap(string(b))
	if err != nil {
		t.Fatal(err)
	}
	var c events.CheckoutBasket
	if err := events.DecodeDetail(env, &c); err != nil || c.CheckoutID != "c1" || c.TotalPrice != 5997 {
		t.Fatalf("detail = %+v, %v", c, err)
	}
	if _, err := events.Unwrap(`{"source":"x"}`); err == nil {
		t.Fatal("Unwrap accepted an envelope without detail-type and detail")
	}
}
