// Package dynamo is the ordering service's store on DynamoDB: orders keyed by
// user name with the time-ordered order id as sort key, so that a query read
// backwards lists a user's orders newest first.
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/eventshop/eventshop/internal/dynamopage"
	"github.com/eventshop/eventshop/internal/dynamoput"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/ordering"
	"github.com/eventshop/eventshop/internal/ordering/record"
	"github.com/eventshop/eventshop/internal/outbox/outboxitem"
	"github.com/eventshop/eventshop/internal/page"
)

// Key attributes of the orders table and of its status index.
const (
	KeyUserName    = "userName"
	KeyOrderID     = "orderId"
	KeyStatusShard = "statusShard"
	StatusIndex    = "byStatus"
)

// StatusShards is how many partitions of the status index each status is
// spread over: one partition per status would take a write of every order
// that enters or leaves it, and an index's partition throttled by its
// writes throttles the table's writes (see docs/scale.md).
const StatusShards = 4

// statusShard is the status index's partition key of the order id in status.
func statusShard(status, orderID string) string {
	h := fnv.New32a()
	h.Write([]byte(orderID))
	return status + "#" + strconv.Itoa(int(h.Sum32()%StatusShards))
}

// TableInput describes the orders table; the CDK stack declares the same.
func TableInput(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(KeyUserName), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(KeyOrderID), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(KeyStatusShard), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(KeyUserName), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(KeyOrderID), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(StatusIndex),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(KeyStatusShard), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(KeyOrderID), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
	}
}

// API is the part of the DynamoDB client the store uses.
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

var _ ordering.Store = (*Store)(nil)

// Store implements ordering.Store.
type Store struct {
	db    API
	table string
}

// New returns the store on table.
func New(db API, table string) *Store { return &Store{db: db, table: table} }

// Create implements ordering.Store with a write conditional on the order
// id; the events ride on the item for the stream publisher.
func (s *Store) Create(ctx context.Context, o ordering.Order, evts ...events.Outgoing) error {
	err := s.put(ctx, o, evts, "attribute_not_exists(orderId)", nil)
	if errors.Is(err, dynamoput.ErrConditionFailed) {
		err = ordering.ErrExists
	}
	if err != nil {
		return fmt.Errorf("create order %s: %w", o.OrderID, err)
	}
	return nil
}

// Update implements ordering.Store with a write conditional on the stored
// version (an order stored before versions counts as version 1).
func (s *Store) Update(ctx context.Context, o ordering.Order, evts ...events.Outgoing) error {
	condition := "version = :prev"
	if o.Version == 2 {
		condition = "attribute_exists(orderId) AND (attribute_not_exists(version) OR version = :prev)"
	}
	err := s.put(ctx, o, evts, condition, map[string]types.AttributeValue{":prev": &types.AttributeValueMemberN{Value: fmt.Sprint(o.Version - 1)}})
	if errors.Is(err, dynamoput.ErrConditionFailed) {
		err = ordering.ErrVersionConflict
		if _, gerr := s.Get(ctx, o.UserName, o.OrderID); errors.Is(gerr, ordering.ErrNotFound) {
			err = ordering.ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("update order %s: %w", o.OrderID, err)
	}
	return nil
}

func (s *Store) put(ctx context.Context, o ordering.Order, evts []events.Outgoing, condition string, values map[string]types.AttributeValue) error {
	av, err := attributevalue.MarshalMap(record.FromOrder(o))
	if err != nil {
		return err
	}
	av[KeyStatusShard] = &types.AttributeValueMemberS{Value: statusShard(o.Status, o.OrderID)}
	if len(evts) > 0 {
		if av[outboxitem.Attribute], err = outboxitem.Encode(evts); err != nil {
			return err
		}
	}
	return dynamoput.Put(ctx, s.db, &dynamodb.PutItemInput{
		TableName: &s.table, Item: av, ConditionExpression: aws.String(condition), ExpressionAttributeValues: values,
	}, KeyUserName, KeyOrderID)
}

func decode(raw map[string]types.AttributeValue) (ordering.Order, error) {
	var r record.Order
	if err := attributevalue.UnmarshalMap(raw, &r); err != nil {
		return ordering.Order{}, fmt.Errorf("decode order: %w", err)
	}
	return r.Order(), nil
}

// Get implements ordering.Store.
func (s *Store) Get(ctx context.Context, userName, orderID string) (ordering.Order, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, ConsistentRead: aws.Bool(true), Key: map[string]types.AttributeValue{
		KeyUserName: &types.AttributeValueMemberS{Value: userName},
		KeyOrderID:  &types.AttributeValueMemberS{Value: orderID},
	}})
	if err != nil {
		return ordering.Order{}, fmt.Errorf("get order %s: %w", orderID, err)
	}
	if len(out.Item) == 0 {
		return ordering.Order{}, fmt.Errorf("get order %s: %w", orderID, ordering.ErrNotFound)
	}
	return decode(out.Item)
}

// ListByUser implements ordering.Store: a query on the user's partition, read
// backwards.
func (s *Store) ListByUser(ctx context.Context, userName string, req page.Request) (page.Of[ordering.Order], error) {
	return s.collect(ctx, req, func(ctx context.Context, start dynamopage.Item, limit int32) ([]dynamopage.Item, dynamopage.Item, error) {
		out, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName: &s.table, ExclusiveStartKey: start, Limit: &limit, ScanIndexForward: aws.Bool(false),
			KeyConditionExpression:    aws.String("userName = :u"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":u": &types.AttributeValueMemberS{Value: userName}},
		})
		if err != nil {
			return nil, nil, err
		}
		return out.Items, out.LastEvaluatedKey, nil
	})
}

// List implements ordering.Store with a query of each of the status
// index's partitions that hold the statuses asked for, read backwards and
// merged by order id (ids sort by time). The index is eventually
// consistent: an order that has just changed status may be missing from
// its new status's list, or listed under its old one, for a moment.
func (s *Store) List(ctx context.Context, status string, req page.Request) (page.Of[ordering.Order], error) {
	var after cursor
	if req.Token != "" {
		if err := page.Decode(req.Token, &after); err != nil {
			return page.Of[ordering.Order]{}, err
		}
	}
	statuses := ordering.Statuses
	if status != "" {
		statuses = []string{status}
	}
	parts := make([]partition, len(statuses)*StatusShards)
	g, gctx := errgroup.WithContext(ctx)
	for i := range parts {
		key := statuses[i/StatusShards] + "#" + strconv.Itoa(i%StatusShards)
		g.Go(func() (err error) {
			// One more than a page tells whether another page follows.
			parts[i], err = s.newest(gctx, key, after.OrderID, int32(req.Limit+1))
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return page.Of[ordering.Order]{}, fmt.Errorf("list orders: %w", err)
	}
	return merge(parts, req.Limit), nil
}

// cursor is where a page of List ended: the last order id it listed.
type cursor struct {
	OrderID string `json:"o"`
}

// partition is the newest orders of one partition of the status index.
type partition struct {
	orders []ordering.Order // newest first
	more   bool             // older ones follow
}

// newest reads up to limit orders of the status index's partition key,
// newest first, older than the order id before if it is not "".
func (s *Store) newest(ctx context.Context, key, before string, limit int32) (partition, error) {
	cond := "statusShard = :k"
	values := map[string]types.AttributeValue{":k": &types.AttributeValueMemberS{Value: key}}
	if before != "" {
		cond += " AND orderId < :before"
		values[":before"] = &types.AttributeValueMemberS{Value: before}
	}
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(StatusIndex), Limit: &limit, ScanIndexForward: aws.Bool(false),
		KeyConditionExpression: &cond, ExpressionAttributeValues: values,
	})
	if err != nil {
		return partition{}, err
	}
	p := partition{orders: make([]ordering.Order, len(out.Items)), more: len(out.LastEvaluatedKey) > 0}
	for i, item := range out.Items {
		if p.orders[i], err = decode(item); err != nil {
			return partition{}, err
		}
	}
	return p, nil
}

// merge returns the newest limit orders of parts, and a token when more
// follow. A partition with more orders than it returned bounds the page:
// its next order, unread, may be newer than any order older than the last
// one it returned.
func merge(parts []partition, limit int) page.Of[ordering.Order] {
	var orders []ordering.Order
	bound, more := "", false
	for _, p := range parts {
		orders = append(orders, p.orders...)
		if p.more && len(p.orders) > 0 {
			bound, more = max(bound, p.orders[len(p.orders)-1].OrderID), true
		}
	}
	slices.SortFunc(orders, func(a, b ordering.Order) int { return strings.Compare(b.OrderID, a.OrderID) })
	orders = slices.CompactFunc(orders, func(a, b ordering.Order) bool { return a.OrderID == b.OrderID })
	if i := slices.IndexFunc(orders, func(o ordering.Order) bool { return o.OrderID < bound }); i >= 0 {
		orders, more = orders[:i], true
	}
	if len(orders) > limit {
		orders, more = orders[:limit], true
	}
	res := page.Of[ordering.Order]{Items: orders}
	if more && len(orders) > 0 {
		res.NextToken = page.Encode(cursor{OrderID: orders[len(orders)-1].OrderID})
	}
	return res
}

func (s *Store) collect(ctx context.Context, req page.Request, fetch dynamopage.Fetch) (page.Of[ordering.Order], error) {
	res, err := dynamopage.Collect(ctx, req, []string{KeyUserName, KeyOrderID}, fetch, decode)
	if err != nil {
		return page.Of[ordering.Order]{}, fmt.Errorf("list orders: %w", err)
	}
	return res, nil
}

// Arrival implements ordering.Store: the functions that create orders are
// others, so this store cannot see one arrive; the reader polls.
func (s *Store) Arrival(string, string) (<-chan ordering.Order, func()) { return nil, func() {} }
