// Package dynamo is the basket service's store on DynamoDB: baskets keyed by
// user name with conditional writes on a version, the write's events and the
// prices its items were priced with on the item, and the price view keyed by
// product id, written only by newer versions. A checkout priced from the kept
// prices is written plainly when the store read the same prices a moment ago,
// otherwise in one transaction with a check of each price.
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventshop/eventshop/internal/backoff"
	"github.com/eventshop/eventshop/internal/basket"
	"github.com/eventshop/eventshop/internal/dynamopage"
	"github.com/eventshop/eventshop/internal/dynamoput"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/expiring"
	"github.com/eventshop/eventshop/internal/kind"
	"github.com/eventshop/eventshop/internal/money"
	"github.com/eventshop/eventshop/internal/outbox/outboxitem"
	"github.com/eventshop/eventshop/internal/page"
)

// Key attributes of the two tables.
const (
	KeyUserName  = "userName"
	KeyProductID = "productId"
)

// BasketTableInput describes the basket table; the CDK stack declares the same.
func BasketTableInput(name string) *dynamodb.CreateTableInput { return hashTable(name, KeyUserName) }

// PriceTableInput describes the price view table; the CDK stack declares the same.
func PriceTableInput(name string) *dynamodb.CreateTableInput { return hashTable(name, KeyProductID) }

func hashTable(name, key string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(key), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(key), KeyType: types.KeyTypeHash}},
	}
}

// API is the part of the DynamoDB client the store uses.
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

var (
	_ basket.Store     = (*Store)(nil)
	_ basket.PriceView = (*Store)(nil)
)

// Store implements basket.Store and basket.PriceView.
type Store struct {
	db                      API
	basketTable, priceTable string
	now                     func() time.Time
	prices                  *expiring.Map[string, basket.Price] // read in the last PriceTTL
}

// New returns the store on its two tables.
func New(db API, basketTable, priceTable string) *Store {
	return NewAt(db, basketTable, priceTable, time.Now)
}

// NewAt is New with a clock: when prices read are no longer fresh (PriceTTL).
func NewAt(db API, basketTable, priceTable string, now func() time.Time) *Store {
	return &Store{db: db, basketTable: basketTable, priceTable: priceTable, now: now,
		prices: expiring.New[string, basket.Price](priceCacheMax)}
}

// NewPriceView returns the store for the price view alone, for a function
// that must not touch baskets: it holds no basket table name.
func NewPriceView(db API, priceTable string) *Store {
	return NewAt(db, "", priceTable, time.Now)
}

type basketItem struct {
	UserName     string      `dynamodbav:"userName"`
	Items        []itemAttr  `dynamodbav:"items"`
	Version      int64       `dynamodbav:"version"`
	LastCheckout string      `dynamodbav:"lastCheckout,omitempty"`
	CheckoutKey  string      `dynamodbav:"lastCheckoutKey,omitempty"`
	Prices       []priceItem `dynamodbav:"prices,omitempty"`
}

// itemAttr is a basket's item as the items attribute keeps it: its names
// are the Go field names it was first written with.
type itemAttr struct {
	ProductID string `dynamodbav:"ProductID"`
	Quantity  int    `dynamodbav:"Quantity"`
	Color     string `dynamodbav:"Color"`
}

// itemAttrs is items as stored; nil stays nil.
func itemAttrs(items []basket.Item) []itemAttr {
	if items == nil {
		return nil
	}
	out := make([]itemAttr, len(items))
	for i, it := range items {
		out[i] = itemAttr(it)
	}
	return out
}

type priceItem struct {
	ProductID string      `dynamodbav:"productId"`
	Name      string      `dynamodbav:"name,omitempty"`
	Price     money.Cents `dynamodbav:"price"`
	Version   int64       `dynamodbav:"version"`
	Deleted   bool        `dynamodbav:"deleted,omitempty"`
}

func priceItemOf(p basket.Price) priceItem {
	return priceItem{ProductID: p.ProductID, Name: p.Name, Price: p.Price, Version: p.Version, Deleted: p.Deleted}
}

func (it priceItem) price() basket.Price {
	return basket.Price{ProductID: it.ProductID, Name: it.Name, Price: it.Price, Version: it.Version, Deleted: it.Deleted}
}

func priceItems(prices []basket.Price) []priceItem {
	if len(prices) == 0 {
		return nil
	}
	out := make([]priceItem, len(prices))
	for i, p := range prices {
		out[i] = priceItemOf(p)
	}
	return out
}

func productKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{KeyProductID: &types.AttributeValueMemberS{Value: id}}
}

func userKey(userName string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{KeyUserName: &types.AttributeValueMemberS{Value: userName}}
}

// Get implements basket.Store.
func (s *Store) Get(ctx context.Context, userName string) (basket.Basket, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.basketTable, Key: userKey(userName), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return basket.Basket{}, fmt.Errorf("get basket %s: %w", userName, err)
	}
	if len(out.Item) == 0 {
		return basket.Basket{}, fmt.Errorf("get basket %s: %w", userName, basket.ErrNotFound)
	}
	return decodeBasket(out.Item)
}

func decodeBasket(raw map[string]types.AttributeValue) (basket.Basket, error) {
	var it basketItem
	if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
		return basket.Basket{}, fmt.Errorf("decode basket: %w", err)
	}
	items := make([]basket.Item, len(it.Items))
	for i, a := range it.Items {
		items[i] = basket.Item(a)
	}
	b := basket.Basket{UserName: it.UserName, Items: items, Version: it.Version, LastCheckout: it.LastCheckout, LastCheckoutKey: it.CheckoutKey}
	for _, p := range it.Prices {
		b.Prices = append(b.Prices, p.price())
	}
	return b, nil
}

// List implements basket.Store by a scan: listing every basket is an
// administrator's read, not a user path.
func (s *Store) List(ctx context.Context, req page.Request) (page.Of[basket.Basket], error) {
	res, err := dynamopage.Collect(ctx, req, []string{KeyUserName}, func(ctx context.Context, start dynamopage.Item, limit int32) ([]dynamopage.Item, dynamopage.Item, error) {
		out, err := s.db.Scan(ctx, &dynamodb.ScanInput{TableName: &s.basketTable, ExclusiveStartKey: start, Limit: &limit, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return nil, nil, err
		}
		return out.Items, out.LastEvaluatedKey, nil
	}, decodeBasket)
	if err != nil {
		return page.Of[basket.Basket]{}, fmt.Errorf("list baskets: %w", err)
	}
	return res, nil
}

// Replace implements basket.Store with one unconditional update. It removes
// the outbox attribute with the last checkout, so that the stream's image of
// this write carries no events of an earlier one. An update the SDK sends
// twice adds two to the version: a version is only ever compared for equality.
func (s *Store) Replace(ctx context.Context, userName string, items []basket.Item) (int64, error) {
	return s.ReplacePriced(ctx, userName, items, nil)
}

// ReplacePriced implements basket.Store: Replace, with the prices
// in the same update.
func (s *Store) ReplacePriced(ctx context.Context, userName string, items []basket.Item, prices []basket.Price) (int64, error) {
	if items == nil {
		items = []basket.Item{}
	}
	av, err := attributevalue.Marshal(itemAttrs(items))
	if err != nil {
		return 0, fmt.Errorf("replace basket %s: %w", userName, err)
	}
	values := map[string]types.AttributeValue{":items": av, ":zero": &types.AttributeValueMemberN{Value: "0"}, ":one": &types.AttributeValueMemberN{Value: "1"}}
	set, remove := "SET #items = :items, version = if_not_exists(version, :zero) + :one", " REMOVE lastCheckout, lastCheckoutKey, #outbox, #write"
	if len(prices) > 0 {
		if values[":prices"], err = attributevalue.Marshal(priceItems(prices)); err != nil {
			return 0, fmt.Errorf("replace basket %s: %w", userName, err)
		}
		set += ", #prices = :prices"
	} else {
		remove += ", #prices"
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.basketTable,
		Key:                       userKey(userName),
		UpdateExpression:          aws.String(set + remove),
		ExpressionAttributeNames:  map[string]string{"#items": "items", "#prices": "prices", "#outbox": outboxitem.Attribute, "#write": dynamoput.WriteID},
		ExpressionAttributeValues: values,
		ReturnValues:              types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return 0, fmt.Errorf("replace basket %s: %w", userName, err)
	}
	var version int64
	if err := attributevalue.Unmarshal(out.Attributes["version"], &version); err != nil {
		return 0, fmt.Errorf("replace basket %s: read its version: %w", userName, err)
	}
	return version, nil
}

// Put implements basket.Store.
func (s *Store) Put(ctx context.Context, b basket.Basket, evts ...events.Outgoing) error {
	in, err := s.putInput(b, evts)
	if err == nil {
		err = dynamoput.Put(ctx, s.db, in, KeyUserName)
		if errors.Is(err, dynamoput.ErrConditionFailed) {
			err = s.conflict(ctx, b)
		}
	}
	if err != nil {
		return fmt.Errorf("put basket %s: %w", b.UserName, err)
	}
	return nil
}

// PutIfPrices implements basket.Store. Prices this store read in
// the last PriceTTL are what its Prices answers: when it holds each of
// prices at the same version, the basket is written as one priced from the
// view would be, with no check (so the prices of products in many baskets,
// which every warm function holds, are not checked by many transactions at
// once, where they would conflict); when it holds one at a newer version,
// that is ErrPriceUnconfirmed at once. Otherwise it is one transaction: the
// basket's write, and a check of each price's version in the view. The SDK
// sends a transaction it retries under the same client request token, so a
// retry of one that landed succeeds without writing again.
func (s *Store) PutIfPrices(ctx context.Context, b basket.Basket, prices []basket.Price, evts ...events.Outgoing) error {
	switch s.remembered(prices) {
	case allSame:
		return s.Put(ctx, b, evts...)
	case newer:
		return fmt.Errorf("put basket %s: %w", b.UserName, basket.ErrPriceUnconfirmed)
	}
	in, err := s.putInput(b, evts)
	if err != nil {
		return fmt.Errorf("put basket %s: %w", b.UserName, err)
	}
	actions := make([]types.TransactWriteItem, 0, 1+len(prices))
	actions = append(actions, types.TransactWriteItem{Put: &types.Put{
		TableName: in.TableName, Item: in.Item, ConditionExpression: in.ConditionExpression, ExpressionAttributeValues: in.ExpressionAttributeValues,
	}})
	for _, p := range prices {
		actions = append(actions, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
			TableName: &s.priceTable, Key: productKey(p.ProductID), ConditionExpression: aws.String("version = :v"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(p.Version, 10)}},
		}})
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: actions})
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) {
		err = s.cancelled(ctx, b, prices, canceled)
	}
	if err != nil {
		return fmt.Errorf("put basket %s: %w", b.UserName, err)
	}
	return nil
}

// memory is what this store remembers of a basket's prices.
type memory int

const (
	notAll  memory = iota // some it has not read in the last PriceTTL, or read at an older version
	allSame               // every one, at the same version
	newer                 // one at a newer version
)

// remembered compares prices with the ones this store read in the last PriceTTL.
func (s *Store) remembered(prices []basket.Price) memory {
	now, all := s.now(), allSame
	for _, p := range prices {
		held, ok := s.prices.Get(p.ProductID, now)
		switch {
		case ok && held.Version > p.Version:
			return newer
		case !ok || held.Version < p.Version:
			all = notAll
		}
	}
	return all
}

// cancelled tells why a PutIfPrices transaction was cancelled: its reasons
// come in the order of its actions, the basket's write first, then prices.
// The basket's: another version (or none), or another write in flight. A
// price's: changed (and forgotten, if this store remembers it, so that the
// view is read again), or not checked because other transactions held it or
// its partition was busy: a product in many baskets at many checkouts a
// second. Either way the caller prices from the view instead.
func (s *Store) cancelled(ctx context.Context, b basket.Basket, prices []basket.Price, e *types.TransactionCanceledException) error {
	err := error(e) // a reason of neither kind (throttled on the basket): the error itself
	for i, r := range e.CancellationReasons {
		code := aws.ToString(r.Code)
		if i == 0 { // the basket's write
			switch code {
			case "ConditionalCheckFailed":
				return s.conflict(ctx, b)
			case "TransactionConflict":
				return basket.ErrVersionConflict
			}
			continue
		}
		if i > len(prices) {
			continue
		}
		switch code {
		case "ConditionalCheckFailed":
			s.prices.Delete(prices[i-1].ProductID)
			err = basket.ErrPriceUnconfirmed
		case "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded":
			err = basket.ErrPriceUnconfirmed
		}
	}
	return err
}

// putInput is the conditional write of b, with its events.
func (s *Store) putInput(b basket.Basket, evts []events.Outgoing) (*dynamodb.PutItemInput, error) {
	av, err := attributevalue.MarshalMap(basketItem{UserName: b.UserName, Items: itemAttrs(b.Items), Version: b.Version,
		LastCheckout: b.LastCheckout, CheckoutKey: b.LastCheckoutKey, Prices: priceItems(b.Prices)})
	if err != nil {
		return nil, err
	}
	if len(evts) > 0 {
		if av[outboxitem.Attribute], err = outboxitem.Encode(evts); err != nil {
			return nil, err
		}
	}
	in := &dynamodb.PutItemInput{TableName: &s.basketTable, Item: av, ConditionExpression: aws.String("attribute_not_exists(userName)")}
	if b.Version > 1 {
		in.ConditionExpression = aws.String("version = :prev")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": &types.AttributeValueMemberN{Value: strconv.FormatInt(b.Version-1, 10)}}
	}
	return in, nil
}

// conflict tells why b's write found another version stored: there is none
// (ErrNotFound) or another (ErrVersionConflict).
func (s *Store) conflict(ctx context.Context, b basket.Basket) error {
	if b.Version > 1 {
		if _, err := s.Get(ctx, b.UserName); errors.Is(err, basket.ErrNotFound) {
			return basket.ErrNotFound
		}
	}
	return basket.ErrVersionConflict
}

// Delete implements basket.Store with an update that empties the basket
// and counts on its version, only if there is a basket.
func (s *Store) Delete(ctx context.Context, userName string) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &s.basketTable,
		Key:                      userKey(userName),
		ConditionExpression:      aws.String("attribute_exists(userName)"),
		UpdateExpression:         aws.String("SET #items = :empty, version = version + :one REMOVE lastCheckout, lastCheckoutKey, #outbox, #write"),
		ExpressionAttributeNames: map[string]string{"#items": "items", "#outbox": outboxitem.Attribute, "#write": dynamoput.WriteID},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":empty": &types.AttributeValueMemberL{Value: []types.AttributeValue{}}, ":one": &types.AttributeValueMemberN{Value: "1"},
		},
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) { // a missing basket stays missing
		return fmt.Errorf("delete basket %s: %w", userName, err)
	}
	return nil
}

// batchGetMax is BatchGetItem's limit on keys per call.
const batchGetMax = 100

// Keys BatchGetItem leaves unprocessed (the table was throttled) are asked
// for again after a backoff with jitter, up to batchGetAttempts calls in all.
var batchGetBackoff = backoff.Policy{First: 50 * time.Millisecond, Max: time.Second}

const batchGetAttempts = 8

// ErrBusy reports prices still unread after every retry: the table is throttled.
var ErrBusy = kind.New(kind.Unavailable, "prices cannot be read right now; retry shortly")

// PriceTTL is how long a store answers from a price it has read, without
// reading it again: what DAX does for eventually consistent reads, in the
// function itself. The view is a projection that trails the catalog by the
// time its events take, and its reads are eventually consistent; a second
// more changes no guarantee (an order is priced from the view as the server
// holds it, never from the client) and saves a round trip on every basket
// write and checkout whose products were priced in the last second.
const PriceTTL = time.Second

// priceCacheMax bounds the prices a store keeps; when full it starts afresh.
const priceCacheMax = 10_000

// Prices implements basket.PriceView: the prices read in the last PriceTTL
// from memory, the others with eventually consistent reads.
func (s *Store) Prices(ctx context.Context, ids []string) (map[string]basket.Price, error) {
	now := s.now()
	out := make(map[string]basket.Price, len(ids))
	var missing []string
	for _, id := range ids {
		if p, ok := s.prices.Get(id, now); ok {
			out[id] = p
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	fetched, err := s.fetchPrices(ctx, missing)
	if err != nil {
		return nil, err
	}
	for id, p := range fetched { // a price that was missing is not kept: a new product is found as soon as the view has it
		s.prices.Put(id, p, now.Add(PriceTTL))
		out[id] = p
	}
	return out, nil
}

// fetchPrices reads the view's entries for ids.
func (s *Store) fetchPrices(ctx context.Context, ids []string) (map[string]basket.Price, error) {
	out := make(map[string]basket.Price, len(ids))
	for start := 0; start < len(ids); start += batchGetMax {
		keys := make([]map[string]types.AttributeValue, 0, batchGetMax)
		for _, id := range ids[start:min(start+batchGetMax, len(ids))] {
			keys = append(keys, productKey(id))
		}
		// Eventually consistent, at half the cost: the view is fed by events,
		// seconds behind the catalog, and a read a second older changes nothing.
		request := map[string]types.KeysAndAttributes{s.priceTable: {Keys: keys}}
		for attempt := 1; len(request) > 0; attempt++ {
			if attempt > 1 {
				if attempt > batchGetAttempts {
					return nil, fmt.Errorf("read prices: keys left unprocessed after %d calls: %w", batchGetAttempts, ErrBusy)
				}
				if err := batchGetBackoff.Sleep(ctx, attempt-1); err != nil {
					return nil, fmt.Errorf("read prices: %w", err)
				}
			}
			res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: request})
			if err != nil {
				return nil, fmt.Errorf("read prices: %w", err)
			}
			for _, raw := range res.Responses[s.priceTable] {
				var it priceItem
				if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
					return nil, fmt.Errorf("decode price: %w", err)
				}
				out[it.ProductID] = it.price()
			}
			request = res.UnprocessedKeys
		}
	}
	return out, nil
}

// ApplyPrice implements basket.PriceView with a write conditional on the
// stored version being older.
func (s *Store) ApplyPrice(ctx context.Context, p basket.Price) (bool, error) {
	av, err := attributevalue.MarshalMap(priceItemOf(p))
	if err != nil {
		return false, err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 &s.priceTable,
		Item:                      av,
		ConditionExpression:       aws.String("attribute_not_exists(productId) OR version < :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: fmt.Sprint(p.Version)}},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("apply price %s v%d: %w", p.ProductID, p.Version, err)
	}
	s.prices.Delete(p.ProductID) // this store just wrote it
	return true, nil
}
