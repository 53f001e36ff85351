package dynamo_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/eventshop/eventshop/internal/basket"
	basketapp "github.com/eventshop/eventshop/internal/basket/app"
	"github.com/eventshop/eventshop/internal/basket/dynamo"
	"github.com/eventshop/eventshop/internal/basket/storetest"
	"github.com/eventshop/eventshop/internal/dynamoretry"
	"github.com/eventshop/eventshop/internal/dynamotest"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/money"
	"github.com/eventshop/eventshop/internal/outbox/outboxitem"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

func open(t *testing.T) *dynamo.Store {
	db := dynamotest.Client(t)
	return dynamo.New(db, dynamotest.Table(t, db, dynamo.BasketTableInput), dynamotest.Table(t, db, dynamo.PriceTableInput))
}

func TestStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) basket.Store { return open(t) })
}

func TestPriceKeepingContract(t *testing.T) {
	storetest.RunPriceKeeping(t, func(t *testing.T) storetest.PriceKeeping { return open(t) })
}

func TestPriceViewContract(t *testing.T) {
	storetest.RunPriceView(t, func(t *testing.T) basket.PriceView { return open(t) })
	storetest.RunContendedPriceView(t, func(t *testing.T, always bool) (basket.PriceView, basket.PriceView) {
		db := dynamotest.Client(t)
		prices := dynamotest.Table(t, db, dynamo.PriceTableInput)
		n := int64(dynamoretry.MaxAttempts - 1) // the write passes at its last attempt
		if always {
			n = 1 << 40
		}
		meeting, _ := dynamotest.ConflictingClient(t, n)
		return dynamo.NewPriceView(db, prices), dynamo.NewPriceView(meeting, prices)
	})
}

// throttled is DynamoDB under throttling: BatchGetItem reads only the first
// key of each call and leaves the rest unprocessed, for the first calls, or
// reads nothing at all when stuck.
type throttled struct {
	*dynamodb.Client
	mu       sync.Mutex
	calls    int
	throttle int // how many calls leave keys unprocessed
	stuck    bool
}

func (c *throttled) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	c.mu.Lock()
	c.calls++
	throttle := c.calls <= c.throttle
	c.mu.Unlock()
	if !throttle {
		return c.Client.BatchGetItem(ctx, in, opts...)
	}
	if c.stuck {
		return &dynamodb.BatchGetItemOutput{UnprocessedKeys: in.RequestItems}, nil
	}
	first := map[string]ddbtypes.KeysAndAttributes{}
	rest := map[string]ddbtypes.KeysAndAttributes{}
	for table, ka := range in.RequestItems {
		first[table] = ddbtypes.KeysAndAttributes{Keys: ka.Keys[:1], ConsistentRead: ka.ConsistentRead}
		if len(ka.Keys) > 1 {
			rest[table] = ddbtypes.KeysAndAttributes{Keys: ka.Keys[1:], ConsistentRead: ka.ConsistentRead}
		}
	}
	out, err := c.Client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: first}, opts...)
	if err != nil {
		return nil, err
	}
	out.UnprocessedKeys = rest
	return out, nil
}

func TestUnprocessedKeysAreRetried(t *testing.T) {
	db := dynamotest.Client(t)
	prices := dynamotest.Table(t, db, dynamo.PriceTableInput)
	seed := dynamo.New(db, dynamotest.Table(t, db, dynamo.BasketTableInput), prices)
	var ids []string
	for i := range 5 {
		id := fmt.Sprintf("p%d", i)
		ids = append(ids, id)
		if _, err := seed.ApplyPrice(t.Context(), basket.Price{ProductID: id, Name: id, Price: 100, Version: 1}); err != nil {
			t.Fatal(err)
		}
	}
	// Four throttled calls, each reading one key: the fifth call reads the last.
	c := &throttled{Client: db, throttle: 4}
	got, err := dynamo.New(c, "unused", prices).Prices(t.Context(), ids)
	if err != nil || len(got) != 5 || c.calls != 5 {
		t.Fatalf("Prices = %d prices, %v after %d calls; want all 5 after 5 calls", len(got), err, c.calls)
	}
	// Throttled for good: a 503-kind outcome after the last attempt, not a 500.
	c = &throttled{Client: db, throttle: 1000, stuck: true}
	_, err = dynamo.New(c, "unused", prices).Prices(t.Context(), ids)
	if !errors.Is(err, dynamo.ErrBusy) || c.calls != 8 {
		t.Fatalf("Prices under lasting throttling = %v after %d calls; want ErrBusy after 8", err, c.calls)
	}
}

// A Replace after a checkout leaves no events on the item: the stream's new
// image of the Replace must not carry the checkout's event again.
func TestReplaceDropsTheLastWritesEvents(t *testing.T) {
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db, dynamo.BasketTableInput)
	s := dynamo.New(db, table, dynamotest.Table(t, db, dynamo.PriceTableInput))
	ctx := t.Context()
	if _, err := s.Replace(ctx, "alice", []basket.Item{{ProductID: "p1", Quantity: 1}}); err != nil {
		t.Fatal(err)
	}
	evt, err := events.New(context.Background(), events.SourceCheckout, events.TypeCheckoutBasket, events.CheckoutBasket{CheckoutID: "c-1", UserName: "alice"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, basket.Basket{UserName: "alice", Items: []basket.Item{}, Version: 2, LastCheckout: "c-1"}, evt); err != nil {
		t.Fatal(err)
	}
	stored := func() map[string]ddbtypes.AttributeValue {
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: map[string]ddbtypes.AttributeValue{dynamo.KeyUserName: &ddbtypes.AttributeValueMemberS{Value: "alice"}}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Item
	}
	if _, ok := stored()[outboxitem.Attribute]; !ok {
		t.Fatal("the checkout's write carries no outbox attribute: the test checks nothing")
	}
	if _, err := s.Replace(ctx, "alice", []basket.Item{{ProductID: "p2", Quantity: 1}}); err != nil {
		t.Fatal(err)
	}
	if item := stored(); item[outboxitem.Attribute] != nil || item["lastCheckout"] != nil {
		t.Fatalf("item after Replace = %v; want no outbox and no last checkout", item)
	}
}

// Prices read in the last PriceTTL come from memory; older ones, missing
// ones and ones this store wrote are read again.
func TestPricesAreReusedForPriceTTL(t *testing.T) {
	db, trips := dynamotest.CountingClient(t)
	prices := dynamotest.Table(t, db, dynamo.PriceTableInput)
	clock := time.Now()
	s := dynamo.NewAt(db, dynamotest.Table(t, db, dynamo.BasketTableInput), prices, func() time.Time { return clock })
	other := dynamo.New(db, "", prices) // another function's store: the basket consumer's
	ctx := t.Context()
	if _, err := other.ApplyPrice(ctx, basket.Price{ProductID: "p1", Name: "Widget", Price: 100, Version: 1}); err != nil {
		t.Fatal(err)
	}
	read := func(want basket.Price, wantTrips int) {
		t.Helper()
		trips.Take()
		got, err := s.Prices(ctx, []string{"p1", "ghost"})
		if err != nil {
			t.Fatal(err)
		}
		if _, n := trips.Take(); got["p1"] != want || n != wantTrips {
			t.Fatalf("Prices = %+v in %d trips; want %+v in %d", got, n, want, wantTrips)
		}
	}
	read(basket.Price{ProductID: "p1", Name: "Widget", Price: 100, Version: 1}, 1)
	if _, err := other.ApplyPrice(ctx, basket.Price{ProductID: "p1", Name: "Widget", Price: 150, Version: 2}); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(dynamo.PriceTTL - time.Millisecond)
	read(basket.Price{ProductID: "p1", Name: "Widget", Price: 100, Version: 1}, 1) // ghost is read again, p1 is not
	clock = clock.Add(time.Millisecond)
	read(basket.Price{ProductID: "p1", Name: "Widget", Price: 150, Version: 2}, 1)
	if _, err := s.ApplyPrice(ctx, basket.Price{ProductID: "p1", Name: "Widget", Price: 175, Version: 3}); err != nil {
		t.Fatal(err)
	}
	read(basket.Price{ProductID: "p1", Name: "Widget", Price: 175, Version: 3}, 1) // read again, not from memory
}

// A checkout's transaction that the SDK sends again after the first landed
// (its answer lost) succeeds: DynamoDB knows its client request token.
func TestARetriedCheckoutThatLandedIsASuccess(t *testing.T) {
	db := dynamotest.Client(t)
	s := dynamo.New(dynamotest.RetriedPuts{Client: db}, dynamotest.Table(t, db, dynamo.BasketTableInput), dynamotest.Table(t, db, dynamo.PriceTableInput))
	ctx := t.Context()
	price := basket.Price{ProductID: "p1", Name: "Widget", Price: 100, Version: 1}
	if _, err := s.ApplyPrice(ctx, price); err != nil {
		t.Fatal(err)
	}
	v, err := s.ReplacePriced(ctx, "alice", []basket.Item{{ProductID: "p1", Quantity: 1}}, []basket.Price{price})
	if err != nil {
		t.Fatal(err)
	}
	emptied := basket.Basket{UserName: "alice", Items: []basket.Item{}, Version: v + 1, LastCheckout: "c-1"}
	if err := s.PutIfPrices(ctx, emptied, []basket.Price{price}); err != nil {
		t.Fatalf("a checkout whose transaction was sent twice: %v", err)
	}
	if got, err := s.Get(ctx, "alice"); err != nil || got.Version != v+1 || got.LastCheckout != "c-1" {
		t.Fatalf("Get = %+v, %v; want version %d, checked out", got, err, v+1)
	}
}

// A checkout is priced as the view stands when it is written, in two round
// trips (the basket, then its write): from the prices kept with the basket,
// written plainly when this function read the same ones in the last
// PriceTTL (as a checkout priced from the view would be), checked in one
// transaction when it has not; and from the view when a price moved since
// the basket was written (at once if this function holds the newer price,
// after the refused transaction if not).
func TestCheckoutIsPricedAsTheViewStandsWhenWritten(t *testing.T) {
	db, trips := dynamotest.CountingClient(t)
	table, prices := dynamotest.Table(t, db, dynamo.BasketTableInput), dynamotest.Table(t, db, dynamo.PriceTableInput)
	clock := time.Now()
	now := func() time.Time { return clock }
	s := dynamo.NewAt(db, table, prices, now)
	other := dynamo.NewAt(db, table, prices, now) // another basket-api function's store
	elsewhere := basketapp.New(other, other)
	consumer := dynamo.New(db, "", prices) // the basket consumer's store
	ctx := t.Context()
	version := int64(0)
	setPrice := func(price money.Cents) {
		t.Helper()
		version++
		if _, err := consumer.ApplyPrice(ctx, basket.Price{ProductID: "p1", Name: "Widget", Price: price, Version: version}); err != nil {
			t.Fatal(err)
		}
	}
	setPrice(100)
	buyer := basketapp.Buyer{FirstName: "A", LastName: "B", Email: "a@example.com", Address: "1 St", PaymentMethod: "invoice"}
	for _, c := range []struct {
		name      string
		writer    *basketapp.Baskets // who writes the basket
		between   func()
		wantTotal money.Cents
		wantTrips map[string]int
	}{
		{"prices read a moment ago", nil, func() {}, 200, map[string]int{"GetItem consistent": 1, "PutItem": 1}},
		{"prices older than PriceTTL", nil, func() { clock = clock.Add(dynamo.PriceTTL) }, 200,
			map[string]int{"GetItem consistent": 1, "TransactWriteItems": 1}},
		{"a price moved since, unknown here", nil, func() { setPrice(150); clock = clock.Add(dynamo.PriceTTL) }, 300,
			map[string]int{"GetItem consistent": 1, "TransactWriteItems": 1, "BatchGetItem": 1, "PutItem": 1}},
		{"a price moved since, read here a moment ago", elsewhere, func() {
			setPrice(200)
			if _, err := s.Prices(ctx, []string{"p1"}); err != nil {
				t.Fatal(err)
			}
		}, 400, map[string]int{"GetItem consistent": 1, "PutItem": 1}},
	} {
		baskets := basketapp.New(s, s)
		writer := c.writer
		if writer == nil {
			writer = baskets
		}
		clock = clock.Add(dynamo.PriceTTL) // nothing held from the last case
		if _, err := writer.Replace(ctx, "alice", []basket.Item{{ProductID: "p1", Quantity: 2}}); err != nil {
			t.Fatal(err)
		}
		c.between()
		trips.Take()
		if _, err := baskets.Checkout(ctx, "alice", buyer, ""); err != nil {
			t.Fatal(err)
		}
		calls, _ := trips.Take()
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: map[string]ddbtypes.AttributeValue{dynamo.KeyUserName: &ddbtypes.AttributeValueMemberS{Value: "alice"}}})
		if err != nil {
			t.Fatal(err)
		}
		evts, err := outboxitem.Decode(out.Item[outboxitem.Attribute].(*ddbtypes.AttributeValueMemberS).Value)
		if err != nil || len(evts) != 1 {
			t.Fatalf("%s: outbox = %v, %v", c.name, evts, err)
		}
		var detail events.CheckoutBasket
		if err := json.Unmarshal(evts[0].Detail, &detail); err != nil {
			t.Fatal(err)
		}
		if detail.TotalPrice != c.wantTotal || !maps.Equal(calls, c.wantTrips) {
			t.Errorf("%s: checkout priced %d with %v; want %d with %v", c.name, detail.TotalPrice, calls, c.wantTotal, c.wantTrips)
		}
	}
}

// contended is DynamoDB with other transactions holding the price items:
// every transaction is cancelled with TransactionConflict on its checks.
type contended struct{ *dynamodb.Client }

func (c contended) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	reasons := []ddbtypes.CancellationReason{{Code: aws.String("None")}}
	for range in.TransactItems[1:] {
		reasons = append(reasons, ddbtypes.CancellationReason{Code: aws.String("TransactionConflict")})
	}
	return nil, &ddbtypes.TransactionCanceledException{CancellationReasons: reasons}
}

// A product in many baskets at many checkouts a second: checks of its price
// conflict with each other's transactions. A checkout then prices from the
// view instead of failing.
func TestACheckoutWhosePriceCheckIsContendedPricesFromTheView(t *testing.T) {
	db, trips := dynamotest.CountingClient(t)
	clock := time.Now()
	s := dynamo.NewAt(contended{db}, dynamotest.Table(t, db, dynamo.BasketTableInput), dynamotest.Table(t, db, dynamo.PriceTableInput),
		func() time.Time { return clock })
	baskets := basketapp.New(s, s)
	ctx := t.Context()
	if _, err := s.ApplyPrice(ctx, basket.Price{ProductID: "p1", Name: "Widget", Price: 100, Version: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := baskets.Replace(ctx, "alice", []basket.Item{{ProductID: "p1", Quantity: 1}}); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(dynamo.PriceTTL) // its price is checked, not taken from memory
	trips.Take()
	id, err := baskets.Checkout(ctx, "alice", basketapp.Buyer{FirstName: "A", LastName: "B", Email: "a@example.com", Address: "1 St", PaymentMethod: "invoice"}, "")
	if err != nil {
		t.Fatalf("checkout with its price check contended: %v", err)
	}
	if calls, _ := trips.Take(); calls["BatchGetItem"] != 1 {
		t.Fatalf("checkout made %v; want the view read after the refused check", calls)
	}
	if got, err := s.Get(ctx, "alice"); err != nil || got.LastCheckout != id || len(got.Items) != 0 {
		t.Fatalf("basket after checkout = %+v, %v; want emptied by checkout %s", got, err, id)
	}
}

// The basket item's items attribute as the store writes it: its names are
// the store's, and it must go on writing and reading the same, whatever the
// domain's types are called.
func TestStoredItemsArePinned(t *testing.T) {
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db, dynamo.BasketTableInput)
	s := dynamo.New(db, table, dynamotest.Table(t, db, dynamo.PriceTableInput))
	items := []basket.Item{{ProductID: "p1", Quantity: 2, Color: "red"}, {ProductID: "p2", Quantity: 1}}
	if _, err := s.Replace(t.Context(), "ada", items); err != nil {
		t.Fatal(err)
	}
	out, err := db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: &table, Key: map[string]ddbtypes.AttributeValue{dynamo.KeyUserName: &ddbtypes.AttributeValueMemberS{Value: "ada"}}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, el := range out.Item["items"].(*ddbtypes.AttributeValueMemberL).Value {
		m := el.(*ddbtypes.AttributeValueMemberM).Value
		var fields []string
		for _, k := range slices.Sorted(maps.Keys(m)) {
			switch v := m[k].(type) {
			case *ddbtypes.AttributeValueMemberS:
				fields = append(fields, k+"=S:"+v.Value)
			case *ddbtypes.AttributeValueMemberN:
				fields = append(fields, k+"=N:"+v.Value)
			default:
				fields = append(fields, fmt.Sprintf("%s=%T", k, v))
			}
		}
		got = append(got, strings.Join(fields, " "))
	}
	want := []string{"Color=S:red ProductID=S:p1 Quantity=N:2", "Color=S: ProductID=S:p2 Quantity=N:1"}
	if !slices.Equal(got, want) {
		t.Errorf("stored items %q\nwant %q", got, want)
	}
	if b, err := s.Get(t.Context(), "ada"); err != nil || !reflect.DeepEqual(b.Items, items) {
		t.Errorf("read %+v, %v; want items %+v", b, err, items)
	}
}
