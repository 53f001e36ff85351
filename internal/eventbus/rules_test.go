package eventbus_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/inventory"
	"github.com/eventshop/eventshop/internal/ordering"
)

func TestRulesRouteTheSeedEvents(t *testing.T) {
	route := func(source, detailType string) []string {
		var queues []string
		o, err := events.New(context.Background(), source, detailType, map[string]string{"n": "1"}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		envelope, _ := json.Marshal(o.Wrap("123456789012", "eu-west-1"))
		for _, r := range eventbus.Rules() {
			if r.Pattern.Matches(envelope) {
				queues = append(queues, r.Queue)
			}
		}
		return queues
	}
	cases := []struct {
		source, detailType string
		want               []string
	}{
		{events.SourceCatalog, events.TypeProductChanged, []string{eventbus.QueueBasketPrices, eventbus.QueueInventoryCatalog}},
		{events.SourceCatalog, events.TypeProductDeleted, []string{eventbus.QueueBasketPrices, eventbus.QueueInventoryCatalog}},
		{"com.swn.basket.checkoutbasket", "CheckoutBasket", []string{eventbus.QueueOrderingOrders}},
		{"com.swn.basket.checkoutbasket", "Other", nil},
		{"elsewhere", events.TypeCheckoutBasket, nil},
		{events.SourceOrdering, events.TypeOrderPlaced, []string{eventbus.QueueInventoryOrders}},
		{events.SourceOrdering, events.TypeOrderShipped, []string{eventbus.QueueInventoryOrders}},
		{events.SourceInventory, events.TypeStockReserved, []string{eventbus.QueuePaymentOrders, eventbus.QueueOrderingFulfil}},
		{events.SourcePayment, events.TypePaymentCaptured, []string{eventbus.QueueOrderingFulfil}},
		{events.SourcePayment, events.TypePaymentRefunded, []string{eventbus.QueueOrderingFulfil}},
		{events.SourceInventory, events.TypeStockRejected, []string{eventbus.QueueOrderingFulfil}},
	}
	for _, c := range cases {
		if got := route(c.source, c.detailType); !slices.Equal(got, c.want) {
			t.Errorf("%s/%s routes to %v, want %v", c.source, c.detailType, got, c.want)
		}
	}
}

func TestRuleDefinitions(t *testing.T) {
	for _, r := range eventbus.Rules() {
		if !r.Pattern.Names("source") {
			t.Errorf("%s: pattern %s names no source", r.Name, r.Pattern.JSON())
		}
		if r.VisibilityTimeout() < 6*r.ConsumerTimeout || r.MaxReceives != 5 || r.BatchSize < 1 || r.BatchSize > 10 {
			t.Errorf("%s: visibility %v, receives %d, batch %d", r.Name, r.VisibilityTimeout(), r.MaxReceives, r.BatchSize)
		}
	}
}

func TestRuleValidation(t *testing.T) {
	if err := eventbus.ValidateRules(eventbus.Rules()); err != nil {
		t.Fatalf("the shop's rules: %v", err)
	}
	good := eventbus.Rules()[0]
	tests := []struct {
		name   string
		change func(*eventbus.Rule)
		ok     bool
	}{
		{"as defined", func(*eventbus.Rule) {}, true},
		{"no name", func(r *eventbus.Rule) { r.Name = "" }, false},
		{"no pattern", func(r *eventbus.Rule) { r.Pattern = eventbus.Pattern{} }, false},
		{"pattern on the detail only", func(r *eventbus.Rule) { r.Pattern = eventbus.MustPattern(`{"detail":{"a":["b"]}}`) }, false},
		{"only a detail-type", func(r *eventbus.Rule) { r.Pattern = eventbus.MustPattern(`{"detail-type":["X"]}`) }, true},
		{"no queue", func(r *eventbus.Rule) { r.Queue = "" }, false},
		{"queue with a slash", func(r *eventbus.Rule) { r.Queue = "a/b" }, false},
		{"queue with a dot", func(r *eventbus.Rule) { r.Queue = "a.b" }, false},
		{"queue with a non-ASCII letter", func(r *eventbus.Rule) { r.Queue = "café" }, false},
		{"queue of every allowed kind", func(r *eventbus.Rule) { r.Queue = "Az09_-" }, true},
		{"queue of 76", func(r *eventbus.Rule) { r.Queue = strings.Repeat("q", 76) }, true},
		{"queue of 77", func(r *eventbus.Rule) { r.Queue = strings.Repeat("q", 77) }, false},
		{"batch 0", func(r *eventbus.Rule) { r.BatchSize = 0 }, false},
		{"batch 1", func(r *eventbus.Rule) { r.BatchSize = 1 }, true},
		{"batch 10", func(r *eventbus.Rule) { r.BatchSize = 10 }, true},
		{"batch 11", func(r *eventbus.Rule) { r.BatchSize = 11 }, false},
		{"receives 0", func(r *eventbus.Rule) { r.MaxReceives = 0 }, false},
		{"receives 1", func(r *eventbus.Rule) { r.MaxReceives = 1 }, true},
		{"receives 1000", func(r *eventbus.Rule) { r.MaxReceives = 1000 }, true},
		{"receives 1001", func(r *eventbus.Rule) { r.MaxReceives = 1001 }, false},
		{"timeout 0", func(r *eventbus.Rule) { r.ConsumerTimeout = 0 }, false},
		{"timeout 1s", func(r *eventbus.Rule) { r.ConsumerTimeout = time.Second }, true},
		{"timeout 15m", func(r *eventbus.Rule) { r.ConsumerTimeout = 15 * time.Minute }, true},
		{"timeout over 15m", func(r *eventbus.Rule) { r.ConsumerTimeout = 15*time.Minute + time.Second }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good
			tt.change(&r)
			if err := r.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok = %v", err, tt.ok)
			}
		})
	}
	stalled := good
	stalled.BatchSize = 0
	if err := eventbus.ValidateRules([]eventbus.Rule{stalled}); err == nil {
		t.Error("ValidateRules accepted a rule with batch size 0")
	}
	other := good
	other.Name = "Other"
	if err := eventbus.ValidateRules([]eventbus.Rule{good, other}); err == nil || !strings.Contains(err.Error(), "two rules target queue") {
		t.Errorf("two rules on one queue: %v", err)
	}
	other = good
	other.Queue = "other"
	if err := eventbus.ValidateRules([]eventbus.Rule{good, other}); err == nil || !strings.Contains(err.Error(), "two rules are named") {
		t.Errorf("two rules with one name: %v", err)
	}
}

// Cancellations go where something may be held or paid: not to the
// inventory when the stock was refused, not to payment when nothing was
// paid. Every reason the ordering service may give is routed, as a real
// cancellation of it, so that a renamed or added reason fails here.
func TestCancellationsRouteByTheirReason(t *testing.T) {
	want := map[string]struct{ inventory, payment bool }{
		ordering.ReasonCustomerCancelled:  {true, true},
		ordering.ReasonPaymentDeclined:    {true, false},
		ordering.ReasonOutOfStock:         {false, false},
		ordering.ReasonProductUnavailable: {false, false},
	}
	for _, reason := range ordering.CancelReasons {
		w, ok := want[reason]
		if !ok {
			t.Errorf("cancel reason %q: say where its cancellation goes", reason)
			continue
		}
		ch, err := ordering.Transition(ordering.StatusPaid, ordering.StatusCancelled, reason, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		envelope := wrap(t, events.SourceOrdering, events.TypeOrderCancelled, events.OrderCancelled{OrderRef: events.OrderRef{OrderID: "o-1"}, From: ordering.StatusPaid, Reason: ch.Reason})
		if got := routedTo(envelope); got[eventbus.QueueInventoryOrders] != w.inventory || got[eventbus.QueuePaymentOrders] != w.payment {
			t.Errorf("a cancellation for %s goes to %v; want inventory %v, payment %v", reason, got, w.inventory, w.payment)
		}
	}
	// The inventory's refusals are the reasons that hold nothing, and reach
	// the ordering service whatever they are.
	for _, outcome := range []inventory.ReservationOutcome{inventory.OutOfStock, inventory.ProductUnavailable} {
		if !slices.Contains(events.StockRefusals, string(outcome)) || !slices.Contains(ordering.CancelReasons, string(outcome)) {
			t.Errorf("the inventory's refusal %q is not among the stock refusals and the ordering's reasons", outcome)
		}
		envelope := wrap(t, events.SourceInventory, events.TypeStockRejected, events.StockRejected{OrderRef: events.OrderRef{OrderID: "o-1"}, Reason: string(outcome)})
		if got := routedTo(envelope); !got[eventbus.QueueOrderingFulfil] || len(got) != 1 {
			t.Errorf("a refusal for %s goes to %v, want the ordering service alone", outcome, got)
		}
	}
}

// wrap is the envelope EventBridge would deliver for a detail.
func wrap(t *testing.T, source, detailType string, detail any) []byte {
	t.Helper()
	o, err := events.New(context.Background(), source, detailType, detail, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	envelope, err := json.Marshal(o.Wrap("123456789012", "eu-west-1"))
	if err != nil {
		t.Fatal(err)
	}
	return envelope
}

// routedTo names the queues whose rules match envelope.
func routedTo(envelope []byte) map[string]bool {
	queues := map[string]bool{}
	for _, r := range eventbus.Rules() {
		if r.Pattern.Matches(envelope) {
			queues[r.Queue] = true
		}
	}
	return queues
}
