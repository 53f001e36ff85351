package consumer_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/eventshop/eventshop/internal/dynamotest"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/eventstest"
	"github.com/eventshop/eventshop/internal/ordering"
	"github.com/eventshop/eventshop/internal/ordering/app"
	"github.com/eventshop/eventshop/internal/ordering/consumer"
	orderingdynamo "github.com/eventshop/eventshop/internal/ordering/dynamo"
	"github.com/eventshop/eventshop/internal/ordering/sqlite"
	"github.com/eventshop/eventshop/internal/page"
)

func checkout(id string) events.CheckoutBasket {
	return events.CheckoutBasket{
		CheckoutID: id, UserName: "alice", FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com",
		Address: "1 St", PaymentMethod: "invoice", TotalPrice: 5997, CheckedOutAt: time.Now(),
		Lines: []events.CheckoutLine{{ProductID: "p1", ProductName: "Widget", Quantity: 3, UnitPrice: 1999, LineTotal: 5997}},
	}
}

// withConsumer is the ordering service's use cases over a SQLite store in a
// temporary directory, and its consumer's batch handler.
func withConsumer(t *testing.T) (*app.Orders, func(context.Context, awsevents.SQSEvent) (awsevents.SQSEventResponse, error)) {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "ordering.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	orders := app.New(s)
	return orders, consumer.New(orders, slog.New(slog.DiscardHandler)).Handle
}

func TestDuplicateCheckoutMakesOneOrder(t *testing.T) {
	ctx := context.Background()
	orders, handle := withConsumer(t)

	c := checkout("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
	msg := func(id string) awsevents.SQSMessage {
		return eventstest.Message(t, id, events.SourceCheckout, events.TypeCheckoutBasket, c)
	}
	// The same checkout twice in one batch, and once more in a later batch.
	for _, batch := range []awsevents.SQSEvent{eventstest.Batch(msg("m1"), msg("m2")), eventstest.Batch(msg("m3"))} {
		resp, err := handle(ctx, batch)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("handle: %+v, %v", resp, err)
		}
	}
	res, err := orders.ListByUser(ctx, "alice", page.Request{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 1 || res.Items[0].OrderID != c.CheckoutID || res.Items[0].TotalPrice != 5997 || res.Items[0].Status != "PLACED" {
		t.Fatalf("orders = %+v, want one order %s", res.Items, c.CheckoutID)
	}
}

func TestBadMessagesFailAlone(t *testing.T) {
	ctx := context.Background()
	_, handle := withConsumer(t)
	noLines := checkout("0193a1b2-c3d4-7e5f-8a9b-000000000001")
	noLines.Lines = nil
	badUser := checkout("0193a1b2-c3d4-7e5f-8a9b-000000000002")
	badUser.UserName = "../etc"
	resp, err := handle(ctx, eventstest.Batch(
		awsevents.SQSMessage{MessageId: "garbage", Body: "not json"},
		eventstest.Message(t, "good", events.SourceCheckout, events.TypeCheckoutBasket, checkout("0193a1b2-c3d4-7e5f-8a9b-000000000003")),
		eventstest.Message(t, "nolines", events.SourceCheckout, events.TypeCheckoutBasket, noLines),
		eventstest.Message(t, "baduser", events.SourceCheckout, events.TypeCheckoutBasket, badUser),
		eventstest.Message(t, "other", "some.source", "SomethingElse", map[string]string{}),
	))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := eventstest.Failed(resp), []string{"garbage", "nolines", "baduser"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("failed = %v, want %v", got, want)
	}
}

// Events overtake one another on the way, and come twice: in any order, a
// reservation and a payment leave the order PAID, once.
func TestFulfilmentEventsInAnyOrder(t *testing.T) {
	for name, order := range map[string][]string{
		"in order":        {events.TypeStockReserved, events.TypePaymentCaptured},
		"payment first":   {events.TypePaymentCaptured, events.TypeStockReserved},
		"repeated":        {events.TypeStockReserved, events.TypeStockReserved, events.TypePaymentCaptured, events.TypePaymentCaptured},
		"repeated, first": {events.TypePaymentCaptured, events.TypePaymentCaptured, events.TypeStockReserved},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			orders, handle := withConsumer(t)
			c := checkout("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
			ref := events.OrderRef{OrderID: c.CheckoutID, UserName: c.UserName}
			msgs := []awsevents.SQSMessage{eventstest.Message(t, "checkout", events.SourceCheckout, events.TypeCheckoutBasket, c)}
			for i, typ := range order {
				id := fmt.Sprintf("m%d", i)
				if typ == events.TypeStockReserved {
					msgs = append(msgs, eventstest.Message(t, id, events.SourceInventory, typ, events.StockReserved{OrderRef: ref, TotalPrice: c.TotalPrice}))
				} else {
					msgs = append(msgs, eventstest.Message(t, id, events.SourcePayment, typ, events.PaymentCaptured{OrderRef: ref, PaymentID: "pay-1", Amount: c.TotalPrice}))
				}
			}
			for _, m := range msgs {
				if resp, err := handle(ctx, eventstest.Batch(m)); err != nil || len(resp.BatchItemFailures) != 0 {
					t.Fatalf("handle %s: %+v, %v", m.MessageId, resp, err)
				}
			}
			o, err := orders.Get(ctx, c.UserName, c.CheckoutID)
			if err != nil {
				t.Fatal(err)
			}
			var path []string
			for _, h := range o.History {
				path = append(path, h.Status)
			}
			if o.Status != "PAID" || o.Version != 3 || !reflect.DeepEqual(path, []string{"PLACED", "RESERVED", "PAID"}) {
				t.Fatalf("order %s v%d, history %v; want PAID v3 through PLACED, RESERVED, PAID", o.Status, o.Version, path)
			}
		})
	}
}

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

// The interleaving of a customer's cancellation with the payment's capture,
// through the consumer, on each store: the order is RESERVED, the customer
// cancels, then PaymentCaptured arrives (the capture was under way), then
// PaymentRefunded. The history shows the charge and the refund.
func TestCancelWhileCapturing(t *testing.T) {
	stores := map[string]func(t *testing.T) ordering.Store{
		"sqlite": func(t *testing.T) ordering.Store {
			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "ordering.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		"dynamo": func(t *testing.T) ordering.Store {
			db := dynamotest.Client(t)
			return orderingdynamo.New(db, dynamotest.Table(t, db, orderingdynamo.TableInput))
		},
	}
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			orders := app.New(newStore(t))
			handle := consumer.New(orders, slog.New(slog.DiscardHandler)).Handle
			c := checkout("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c")
			ref := events.OrderRef{OrderID: c.CheckoutID, UserName: c.UserName}
			deliver := func(id, source, detailType string, detail any) {
				t.Helper()
				if resp, err := handle(ctx, eventstest.Batch(eventstest.Message(t, id, source, detailType, detail))); err != nil || len(resp.BatchItemFailures) != 0 {
					t.Fatalf("%s: %+v, %v", detailType, resp, err)
				}
			}
			deliver("m1", events.SourceCheckout, events.TypeCheckoutBasket, c)
			deliver("m2", events.SourceInventory, events.TypeStockReserved, events.StockReserved{OrderRef: ref, TotalPrice: c.TotalPrice})
			if _, err := orders.Cancel(ctx, c.UserName, c.CheckoutID); err != nil {
				t.Fatal(err)
			}
			captured := events.PaymentCaptured{OrderRef: ref, PaymentID: "pay-1", Amount: c.TotalPrice}
			refunded := events.PaymentRefunded{OrderRef: ref, PaymentID: "pay-1", Amount: c.TotalPrice}
			history := func(want ...string) {
				t.Helper()
				o, err := orders.Get(ctx, c.UserName, c.CheckoutID)
				if err != nil {
					t.Fatal(err)
				}
				var path []string
				for _, h := range o.History {
					path = append(path, h.Status)
				}
				if o.Status != "CANCELLED" || !reflect.DeepEqual(path, want) {
					t.Fatalf("order %s, history %v; want CANCELLED through %v", o.Status, path, want)
				}
			}
			deliver("m3", events.SourcePayment, events.TypePaymentCaptured, captured)
			history("PLACED", "RESERVED", "CANCELLED", "PAYMENT_CAPTURED")
			deliver("m4", events.SourcePayment, events.TypePaymentRefunded, refunded)
			deliver("m3", events.SourcePayment, events.TypePaymentCaptured, captured) // redelivered
			history("PLACED", "RESERVED", "CANCELLED", "PAYMENT_CAPTURED", "REFUNDED")
		})
	}
}

// A refusal of the stock cancels the order with its reason and marks the
// lines of the products it names.
func TestAStockRefusalMarksTheLinesItCouldNotHold(t *testing.T) {
	ctx := t.Context()
	orders, handle := withConsumer(t)
	c := checkout("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
	c.Lines = append(c.Lines, events.CheckoutLine{ProductID: "p2", ProductName: "Gadget", Quantity: 1, UnitPrice: 500, LineTotal: 500})
	c.TotalPrice += 500
	refused := events.StockRejected{OrderRef: events.OrderRef{OrderID: c.CheckoutID, UserName: c.UserName}, Reason: ordering.ReasonOutOfStock, ProductIDs: []string{"p2"}}
	for _, m := range []awsevents.SQSMessage{
		eventstest.Message(t, "checkout", events.SourceCheckout, events.TypeCheckoutBasket, c),
		eventstest.Message(t, "refused", events.SourceInventory, events.TypeStockRejected, refused),
	} {
		if resp, err := handle(ctx, eventstest.Batch(m)); err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("handle %s: %+v, %v", m.MessageId, resp, err)
		}
	}
	o, err := orders.Get(ctx, c.UserName, c.CheckoutID)
	if err != nil || o.Status != ordering.StatusCancelled || o.CancelReason != ordering.ReasonOutOfStock || o.Lines[0].Unavailable || !o.Lines[1].Unavailable {
		t.Fatalf("order %+v, %v; want it cancelled out_of_stock with only the Gadget's line unavailable", o, err)
	}
}
