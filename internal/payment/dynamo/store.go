// Package dynamo is the payment service's store on DynamoDB: one item per
// order, written whole and conditionally on the state it expects, with the
// write's events on the item for the stream publisher.
package dynamo

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventshop/eventshop/internal/dynamoput"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/money"
	"github.com/eventshop/eventshop/internal/outbox/outboxitem"
	"github.com/eventshop/eventshop/internal/payment"
)

// KeyOrderID is the table's key.
const KeyOrderID = "orderId"

// TableInput describes the payments table; the CDK stack declares the same.
func TableInput(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(KeyOrderID), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(KeyOrderID), KeyType: types.KeyTypeHash}},
	}
}

// API is the part of the DynamoDB client the store uses.
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

var _ payment.Store = (*Store)(nil)

// Store implements payment.Store.
type Store struct {
	db    API
	table string
}

// New returns the store on table.
func New(db API, table string) *Store { return &Store{db: db, table: table} }

type item struct {
	OrderID   string      `dynamodbav:"orderId"`
	UserName  string      `dynamodbav:"userName"`
	State     string      `dynamodbav:"state"`
	Amount    money.Cents `dynamodbav:"amount"`
	CaptureID string      `dynamodbav:"captureId,omitempty"`
	RefundID  string      `dynamodbav:"refundId,omitempty"`
}

// Get implements payment.Store.
func (s *Store) Get(ctx context.Context, orderID string) (payment.Payment, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{KeyOrderID: &types.AttributeValueMemberS{Value: orderID}}})
	if err != nil {
		return payment.Payment{}, fmt.Errorf("get payment of %s: %w", orderID, err)
	}
	if len(out.Item) == 0 {
		return payment.Payment{}, fmt.Errorf("get payment of %s: %w", orderID, payment.ErrNotFound)
	}
	var it item
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return payment.Payment{}, fmt.Errorf("decode payment of %s: %w", orderID, err)
	}
	return payment.Payment{OrderID: it.OrderID, UserName: it.UserName, State: it.State, Amount: it.Amount, CaptureID: it.CaptureID, RefundID: it.RefundID}, nil
}

// Record implements payment.Store.
func (s *Store) Record(ctx context.Context, p payment.Payment, from string, evts ...events.Outgoing) (bool, error) {
	av, err := attributevalue.MarshalMap(item{OrderID: p.OrderID, UserName: p.UserName, State: p.State, Amount: p.Amount, CaptureID: p.CaptureID, RefundID: p.RefundID})
	if err != nil {
		return false, err
	}
	if len(evts) > 0 {
		if av[outboxitem.Attribute], err = outboxitem.Encode(evts); err != nil {
			return false, err
		}
	}
	in := &dynamodb.PutItemInput{TableName: &s.table, Item: av, ConditionExpression: aws.String("attribute_not_exists(orderId)")}
	if from != "" {
		in.ConditionExpression = aws.String("#s = :from")
		in.ExpressionAttributeNames = map[string]string{"#s": "state"}
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":from": &types.AttributeValueMemberS{Value: from}}
	}
	err = dynamoput.Put(ctx, s.db, in, KeyOrderID)
	if errors.Is(err, dynamoput.ErrConditionFailed) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("record payment of %s: %w", p.OrderID, err)
	}
	return true, nil
}
