package consumer_test

import (
	"log/slog"
	"path/filepath"
	"slices"
	"testing"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/eventstest"
	"github.com/eventshop/eventshop/internal/payment/app"
	"github.com/eventshop/eventshop/internal/payment/consumer"
	"github.com/eventshop/eventshop/internal/payment/simulator"
	"github.com/eventshop/eventshop/internal/payment/sqlite"
)

// Each event comes twice, a cancellation overtakes its reservation, and a
// bad message fails alone: one order is paid and refunded once, the other
// is never paid.
func TestDuplicatesAndReordering(t *testing.T) {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "payment.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	h := consumer.New(app.New(s, simulator.Simulator{}), slog.New(slog.DiscardHandler)).Handle
	msg := func(id, typ, order string) awsevents.SQSMessage {
		ref := events.OrderRef{OrderID: order, UserName: "alice"}
		if typ == events.TypeStockReserved {
			return eventstest.Message(t, id, events.SourceInventory, typ, events.StockReserved{OrderRef: ref, TotalPrice: 1999, PaymentMethod: "invoice"})
		}
		return eventstest.Message(t, id, events.SourceOrdering, typ, events.OrderCancelled{OrderRef: ref, From: "PLACED", Reason: "customer_cancelled"})
	}
	bad := eventstest.Message(t, "bad", events.SourceInventory, events.TypeStockReserved, map[string]any{"orderId": 7})
	resp, err := h(t.Context(), eventstest.Batch(
		msg("c2", events.TypeOrderCancelled, "o2"),
		msg("r1", events.TypeStockReserved, "o1"), msg("r1again", events.TypeStockReserved, "o1"),
		bad,
		msg("r2", events.TypeStockReserved, "o2"), msg("r2again", events.TypeStockReserved, "o2"),
		msg("c1", events.TypeOrderCancelled, "o1"), msg("c1again", events.TypeOrderCancelled, "o1"),
	))
	if err != nil {
		t.Fatal(err)
	}
	if got := eventstest.Failed(resp); !slices.Equal(got, []string{"bad"}) {
		t.Fatalf("failed %v, want only the bad message", got)
	}
	var c eventstest.Collector
	if _, err := s.Outbox().Flush(t.Context(), &c); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range c.Events() {
		got = append(got, e.DetailType)
	}
	if want := []string{events.TypePaymentCaptured, events.TypePaymentRefunded}; !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v (o1 paid and refunded once, o2 never paid)", got, want)
	}
}
