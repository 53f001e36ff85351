package events_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/eventshop/eventshop/internal/events"
)

func TestRulesRouteTheSeedEvents(t *testing.T) {
	route := func(source, detailType string) []string {
		var queues []string
		for _, r := range events.Rules {
			if r.Pattern.Matches(source, detailType) {
				queues = append(queues, r.Queue)
			}
		}
		return queues
	}
	cases := []struct {
		source, detailType string
		want               string
	}{
		{events.SourceCatalog, events.TypeProductChanged, events.QueueBasketPrices},
		{events.SourceCatalog, events.TypeProductDeleted, events.QueueBasketPrices},
		{"com.swn.basket.checkoutbasket", "CheckoutBasket", events.QueueOrderingOrders},
		{"com.swn.basket.checkoutbasket", "Other", ""},
		{"elsewhere", events.TypeCheckoutBasket, ""},
	}
	for _, c := range cases {
		got := route(c.source, c.detailType)
		if (c.want == "" && len(got) != 0) || (c.want != "" && (len(got) != 1 || got[0] != c.want)) {
			t.Errorf("%s/%s routes to %v, want %q", c.source, c.detailType, got, c.want)
		}
	}
}

func TestRuleDefinitions(t *testing.T) {
	for _, r := range events.Rules {
		var p map[string][]string
		if err := json.Unmarshal([]byte(r.Pattern.JSON()), &p); err != nil {
			t.Fatalf("%s: pattern %s: %v", r.Name, r.Pattern.JSON(), err)
		}
		if len(p["source"]) == 0 || len(p["detail-type"]) == 0 {
			t.Errorf("%s: pattern %s lacks source or detail-type", r.Name, r.Pattern.JSON())
		}
		if r.VisibilityTimeout() < 6*r.ConsumerTimeout || r.MaxReceives != 5 || r.BatchSize < 1 || r.BatchSize > 10 {
			t.Errorf("%s: visibility %v, receives %d, batch %d", r.Name, r.VisibilityTimeout(), r.MaxReceives, r.BatchSize)
		}
	}
}

func TestEnvelopeRoundTrip(t *testing.T) {
	o, err := events.New(events.SourceCheckout, events.TypeCheckoutBasket, events.CheckoutBasket{CheckoutID: "c1", TotalPrice: 5997}, time.Now())
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
