package dynamotest_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/google/uuid"

	"github.com/eventshop/eventshop/internal/basket"
	basketapp "github.com/eventshop/eventshop/internal/basket/app"
	basketdynamo "github.com/eventshop/eventshop/internal/basket/dynamo"
	"github.com/eventshop/eventshop/internal/catalog"
	catalogapp "github.com/eventshop/eventshop/internal/catalog/app"
	catalogdynamo "github.com/eventshop/eventshop/internal/catalog/dynamo"
	"github.com/eventshop/eventshop/internal/dynamotest"
	"github.com/eventshop/eventshop/internal/inventory"
	inventoryapp "github.com/eventshop/eventshop/internal/inventory/app"
	inventorydynamo "github.com/eventshop/eventshop/internal/inventory/dynamo"
	"github.com/eventshop/eventshop/internal/ordering"
	orderingapp "github.com/eventshop/eventshop/internal/ordering/app"
	orderingdynamo "github.com/eventshop/eventshop/internal/ordering/dynamo"
	paymentapp "github.com/eventshop/eventshop/internal/payment/app"
	paymentdynamo "github.com/eventshop/eventshop/internal/payment/dynamo"
	"github.com/eventshop/eventshop/internal/payment/simulator"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

// trips measures the DynamoDB calls of the operations whose cost the cost
// model counts: a product read, a basket write (one line) and a checkout.
func trips(t testing.TB) map[string]func() (map[string]int, int) {
	db, counted := dynamotest.CountingClient(t)
	ctx := context.Background()
	catalogUC := catalogapp.New(catalogdynamo.New(db, dynamotest.Table(t, db, catalogdynamo.TableInput)))
	store := basketdynamo.New(db, dynamotest.Table(t, db, basketdynamo.BasketTableInput), dynamotest.Table(t, db, basketdynamo.PriceTableInput))
	baskets, prices := basketapp.New(store, store), basketapp.NewPrices(store)
	p, err := catalogUC.Create(ctx, catalog.Details{Name: "Widget", Category: "Tools", Price: 1999})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prices.Change(ctx, basketapp.ChangePrice{ProductID: p.ID, Name: p.Name, Price: p.Price, Version: p.Version}); err != nil {
		t.Fatal(err)
	}
	n := 0
	measure := func(op func() error) func() (map[string]int, int) {
		return func() (map[string]int, int) {
			counted.Take()
			if err := op(); err != nil {
				t.Fatal(err)
			}
			return counted.Take()
		}
	}
	orders := orderingapp.New(orderingdynamo.New(db, dynamotest.Table(t, db, orderingdynamo.TableInput)))
	stock := inventoryapp.New(inventorydynamo.New(db, dynamotest.Table(t, db, inventorydynamo.TableInput)))
	pay := paymentapp.New(paymentdynamo.New(db, dynamotest.Table(t, db, paymentdynamo.TableInput)), simulator.Simulator{})
	if _, err := stock.Announce(ctx, inventoryapp.AnnounceProduct{ProductID: p.ID, Version: p.Version}); err != nil {
		t.Fatal(err)
	}
	if _, err := stock.SetAvailable(ctx, p.ID, 1_000_000, 0); err != nil {
		t.Fatal(err)
	}
	// order makes the next order, placed, as the ordering consumer places it.
	order := func() (string, error) {
		n++
		id := uuid.Must(uuid.NewV7()).String()
		_, err := orders.Place(ctx, orderingapp.PlaceOrder{CheckoutID: id, UserName: fmt.Sprintf("u%d", n), FirstName: "A", LastName: "B",
			Email: "a@example.com", Address: "1 St", PaymentMethod: "invoice", TotalPrice: p.Price,
			Lines: []ordering.Line{{ProductID: p.ID, ProductName: p.Name, Quantity: 1, UnitPrice: p.Price, LineTotal: p.Price}}})
		return id, err
	}
	return map[string]func() (map[string]int, int){
		"order placed (ordering consumer)": measure(func() error { _, err := order(); return err }),
		"stock reserved (inventory consumer)": measure(func() error {
			id, err := order()
			if err != nil {
				return err
			}
			counted.Take()
			_, err = stock.Reserve(ctx, inventoryapp.ReserveOrder{OrderID: id, UserName: "u", Lines: []inventory.Line{{ProductID: p.ID, Quantity: 1}}, TotalPrice: p.Price, PaymentMethod: "invoice"})
			return err
		}),
		"payment taken (payment consumer)": measure(func() error {
			n++
			_, err := pay.Take(ctx, paymentapp.TakePayment{OrderID: uuid.Must(uuid.NewV7()).String(), UserName: "u", Amount: p.Price, Method: "invoice"})
			return err
		}),
		"order status change (ordering consumer)": measure(func() error {
			id, err := order()
			if err != nil {
				return err
			}
			counted.Take()
			_, err = orders.Apply(ctx, orderingapp.Outcome{OrderID: id, UserName: fmt.Sprintf("u%d", n), To: ordering.StatusReserved})
			return err
		}),
		"product read": measure(func() error { _, err := catalogUC.Get(ctx, p.ID); return err }),
		"basket write": measure(func() error {
			n++
			_, err := baskets.Replace(ctx, fmt.Sprintf("u%d", n), []basket.Item{{ProductID: p.ID, Quantity: 1}})
			return err
		}),
		"checkout": measure(func() error {
			n++
			user := fmt.Sprintf("u%d", n)
			if _, err := baskets.Replace(ctx, user, []basket.Item{{ProductID: p.ID, Quantity: 1}}); err != nil {
				return err
			}
			counted.Take() // only the checkout's own calls
			_, err := baskets.Checkout(ctx, user, basketapp.Buyer{FirstName: "A", LastName: "B", Email: "a@example.com", Address: "1 St", PaymentMethod: "invoice"}, "")
			return err
		}),
	}
}

// The round trips to DynamoDB of each operation stay at most what they are
// today (the cost model counts them; issue 10 wants 1, 2 and 2).
func TestDynamoDBTrips(t *testing.T) {
	most := map[string]int{"product read": 1, "basket write": 3, "checkout": 3,
		"order placed (ordering consumer)": 1, "stock reserved (inventory consumer)": 4, "payment taken (payment consumer)": 2,
		"order status change (ordering consumer)": 2}
	for name, measure := range trips(t) {
		calls, total := measure()
		t.Logf("%s: %d trips %v", name, total, calls)
		if total > most[name] {
			t.Errorf("%s takes %d trips to DynamoDB (%v), more than %d", name, total, calls, most[name])
		}
	}
}

// BenchmarkDynamoDBTrips reports the round trips of each operation
// (trips/op) beside its time against dynalite (a stand-in: times are not
// DynamoDB's).
func BenchmarkDynamoDBTrips(b *testing.B) {
	for name, measure := range trips(b) {
		b.Run(name, func(b *testing.B) {
			total := 0
			for b.Loop() {
				_, n := measure()
				total += n
			}
			b.ReportMetric(float64(total)/float64(b.N), "trips/op")
		})
	}
}
