package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/eventshop/eventshop/internal/basket"
	"github.com/eventshop/eventshop/internal/basket/dynamo"
	"github.com/eventshop/eventshop/internal/basket/storetest"
	"github.com/eventshop/eventshop/internal/dynamotest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

func open(t *testing.T) *dynamo.Store {
	db := dynamotest.Client(t)
	return dynamo.New(db, dynamotest.Table(t, db, dynamo.BasketTableInput), dynamotest.Table(t, db, dynamo.PriceTableInput))
}

func TestStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) basket.Store { return open(t) })
}

func TestPriceViewContract(t *testing.T) {
	storetest.RunPriceView(t, func(t *testing.T) basket.PriceView { return open(t) })
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
