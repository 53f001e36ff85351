package dynamotest_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

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
	// The basket store answers from prices it read in the last PriceTTL; the
	// clock says when the cache is cold (stale) and when warm.
	clock := time.Now()
	cold := func() { clock = clock.Add(basketdynamo.PriceTTL) }
	store := basketdynamo.NewAt(db, dynamotest.Table(t, db, basketdynamo.BasketTableInput), dynamotest.Table(t, db, basketdynamo.PriceTableInput),
		func() time.Time { return clock })
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
	stock := inventoryapp.New(inventorydynamo.New(db, dynamotest.Table(t, db, inventorydynamo.TableInput), dynamotest.Table(t, db, inventorydynamo.ReservationTableInput)))
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
	ops := map[string]func() (map[string]int, int){
		"order placed (ordering consumer)": measure(func() error { _, err := order(); return err }),
		"stock reserved (inventory consumer)": measure(func() error {
			id, err := order()
			if err != nil {
				return err
			}
			counted.Take()
			_, err = stock.Reserve(ctx, inventoryapp.ReserveOrder{OrderID: id, UserName: "u", Lines: []inventory.Need{{ProductID: p.ID, Quantity: 1}}, TotalPrice: p.Price, PaymentMethod: "invoice"})
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
			_, err = orders.Apply(ctx, orderingapp.Move{OrderID: id, UserName: fmt.Sprintf("u%d", n), To: ordering.StatusReserved})
			return err
		}),
		"product read": measure(func() error { _, err := catalogUC.Get(ctx, p.ID); return err }),
	}
	basketWrite := func(warm bool) func() (map[string]int, int) {
		return measure(func() error {
			n++
			if warm {
				if _, err := store.Prices(ctx, []string{p.ID}); err != nil { // another request priced it a moment ago
					return err
				}
				counted.Take()
			} else {
				cold()
			}
			_, err := baskets.Replace(ctx, fmt.Sprintf("u%d", n), []basket.Item{{ProductID: p.ID, Quantity: 1}})
			return err
		})
	}
	checkout := func(warm bool) func() (map[string]int, int) {
		return measure(func() error {
			n++
			user := fmt.Sprintf("u%d", n)
			if _, err := baskets.Replace(ctx, user, []basket.Item{{ProductID: p.ID, Quantity: 1}}); err != nil {
				return err
			}
			if !warm {
				cold()
			}
			counted.Take() // only the checkout's own calls
			_, err := baskets.Checkout(ctx, user, basketapp.Buyer{FirstName: "A", LastName: "B", Email: "a@example.com", Address: "1 St", PaymentMethod: "invoice"}, "")
			return err
		})
	}
	ops["basket write"], ops["basket write, prices read in the last second"] = basketWrite(false), basketWrite(true)
	ops["checkout"], ops["checkout, prices read in the last second"] = checkout(false), checkout(true)
	return ops
}

// The round trips to DynamoDB of each operation stay at most what they are
// today (the cost model counts them; issue 10 wants 1, 2 and 2), and reads
// whose staleness is harmless are eventually consistent, at half the cost.
func TestDynamoDBTrips(t *testing.T) {
	most := map[string]int{"product read": 1, "basket write": 2, "checkout": 2,
		"basket write, prices read in the last second": 1, "checkout, prices read in the last second": 2,
		"order placed (ordering consumer)": 1, "stock reserved (inventory consumer)": 2, "payment taken (payment consumer)": 2,
		"order status change (ordering consumer)": 2}
	// The public product read, and the price view (a projection fed by
	// events, seconds behind the catalog anyway) that a basket write reads.
	eventual := map[string]bool{"product read": true, "basket write": true, "basket write, prices read in the last second": true}
	for name, measure := range trips(t) {
		calls, total := measure()
		t.Logf("%s: %d trips %v", name, total, calls)
		if total > most[name] {
			t.Errorf("%s takes %d trips to DynamoDB (%v), more than %d", name, total, calls, most[name])
		}
		if eventual[name] {
			for op := range calls {
				if strings.HasSuffix(op, " consistent") {
					t.Errorf("%s makes a strongly consistent read (%v); a stale one is harmless there", name, calls)
				}
			}
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
