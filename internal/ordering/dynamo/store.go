// Package dynamo is the ordering service's store on DynamoDB: orders keyed by
// user name with the time-ordered order id as sort key, so that a query read
// backwards lists a user's orders newest first.
package dynamo

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventshop/eventshop/internal/dynamopage"
	"github.com/eventshop/eventshop/internal/dynamoput"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/ordering"
	"github.com/eventshop/eventshop/internal/ordering/record"
	"github.com/eventshop/eventshop/internal/outbox/outboxitem"
	"github.com/eventshop/eventshop/internal/page"
)

// Key attributes of the orders table.
const (
	KeyUserName = "userName"
	KeyOrderID  = "orderId"
)

// TableInput describes the orders table; the CDK stack declares the same.
func TableInput(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(KeyUserName), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(KeyOrderID), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(KeyUserName), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(KeyOrderID), KeyType: types.KeyTypeRange},
		},
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

// List implements ordering.Store by a scan: listing every order is an
// administrator's read, not a user path, and comes in no particular order.
func (s *Store) List(ctx context.Context, req page.Request) (page.Of[ordering.Order], error) {
	return s.collect(ctx, req, func(ctx context.Context, start dynamopage.Item, limit int32) ([]dynamopage.Item, dynamopage.Item, error) {
		out, err := s.db.Scan(ctx, &dynamodb.ScanInput{TableName: &s.table, ExclusiveStartKey: start, Limit: &limit})
		if err != nil {
			return nil, nil, err
		}
		return out.Items, out.LastEvaluatedKey, nil
	})
}

func (s *Store) collect(ctx context.Context, req page.Request, fetch dynamopage.Fetch) (page.Of[ordering.Order], error) {
	res, err := dynamopage.Collect(ctx, req, []string{KeyUserName, KeyOrderID}, fetch, decode)
	if err != nil {
		return page.Of[ordering.Order]{}, fmt.Errorf("list orders: %w", err)
	}
	return res, nil
}
