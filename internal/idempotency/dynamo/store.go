// Package dynamo keeps idempotency records in DynamoDB: one item per (scope,
// key), written conditionally, and removed by the table's TTL once expired.
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

	"github.com/eventshop/eventshop/internal/dynamoput"
	"github.com/eventshop/eventshop/internal/idempotency"
)

// Names of the table's key attributes and its TTL attribute.
const (
	KeyScope     = "scope"
	KeyKey       = "key"
	TTLAttribute = "expiresAt"
)

// TableInput describes the records' table; the CDK stack declares the same.
func TableInput(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(KeyScope), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(KeyKey), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(KeyScope), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(KeyKey), KeyType: types.KeyTypeRange},
		},
	}
}

// API is the part of the DynamoDB client the store uses.
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

var _ idempotency.Store = (*Store)(nil)

// Store implements idempotency.Store.
type Store struct {
	db    API
	table string
}

// New returns the store on table.
func New(db API, table string) *Store { return &Store{db: db, table: table} }

// item is a record as stored. Started is in Unix nanoseconds (it tells claims
// apart); ExpiresAt in Unix seconds, as DynamoDB's TTL reads it.
type item struct {
	Scope       string `dynamodbav:"scope"`
	Key         string `dynamodbav:"key"`
	Fingerprint string `dynamodbav:"fingerprint"`
	Started     int64  `dynamodbav:"started"`
	ExpiresAt   int64  `dynamodbav:"expiresAt"`
	Done        bool   `dynamodbav:"done"`
	Status      int    `dynamodbav:"status,omitempty"`
	ContentType string `dynamodbav:"contentType,omitempty"`
	Location    string `dynamodbav:"location,omitempty"`
	Body        []byte `dynamodbav:"body,omitempty"`
}

func (it item) record() idempotency.Record {
	return idempotency.Record{
		Scope: it.Scope, Key: it.Key, Fingerprint: it.Fingerprint, Started: time.Unix(0, it.Started), Expires: time.Unix(it.ExpiresAt, 0),
		Done: it.Done, Status: it.Status, ContentType: it.ContentType, Location: it.Location, Body: it.Body,
	}
}

func (s *Store) key(scope, key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{KeyScope: &types.AttributeValueMemberS{Value: scope}, KeyKey: &types.AttributeValueMemberS{Value: key}}
}

func number(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// Claim implements idempotency.Store with a put conditional on the key being
// free, expired or abandoned. An expired item the TTL has not removed yet
// counts as gone, as it should.
func (s *Store) Claim(ctx context.Context, r idempotency.Record, staleBefore time.Time) (idempotency.Record, error) {
	av, err := attributevalue.MarshalMap(item{Scope: r.Scope, Key: r.Key, Fingerprint: r.Fingerprint, Started: r.Started.UnixNano(), ExpiresAt: r.Expires.Unix()})
	if err != nil {
		return idempotency.Record{}, fmt.Errorf("claim idempotency key: %w", err)
	}
	err = dynamoput.Put(ctx, s.db, &dynamodb.PutItemInput{
		TableName:                &s.table,
		Item:                     av,
		ConditionExpression:      aws.String("attribute_not_exists(#s) OR #e <= :now OR (#d = :false AND #st < :stale)"),
		ExpressionAttributeNames: map[string]string{"#s": KeyScope, "#e": TTLAttribute, "#d": "done", "#st": "started"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": number(r.Started.Unix()), ":false": &types.AttributeValueMemberBOOL{Value: false}, ":stale": number(staleBefore.UnixNano()),
		},
	}, KeyScope, KeyKey)
	if errors.Is(err, dynamoput.ErrConditionFailed) {
		out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: s.key(r.Scope, r.Key), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return idempotency.Record{}, fmt.Errorf("read idempotency record: %w", err)
		}
		var it item
		if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
			return idempotency.Record{}, fmt.Errorf("read idempotency record: %w", err)
		}
		return it.record(), idempotency.ErrExists
	}
	if err != nil {
		return idempotency.Record{}, fmt.Errorf("claim idempotency key: %w", err)
	}
	return idempotency.Record{}, nil
}

// Complete implements idempotency.Store with an update conditional on the claim.
func (s *Store) Complete(ctx context.Context, r idempotency.Record) error {
	values := map[string]types.AttributeValue{
		":true": &types.AttributeValueMemberBOOL{Value: true}, ":status": number(int64(r.Status)), ":started": number(r.Started.UnixNano()),
		":ct": &types.AttributeValueMemberS{Value: r.ContentType}, ":loc": &types.AttributeValueMemberS{Value: r.Location},
		":body": &types.AttributeValueMemberB{Value: r.Body},
	}
	set := "SET #d = :true, #status = :status, contentType = :ct, #loc = :loc, body = :body"
	if len(r.Body) == 0 { // DynamoDB refuses an empty binary value
		set = "SET #d = :true, #status = :status, contentType = :ct, #loc = :loc REMOVE body"
		delete(values, ":body")
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       s.key(r.Scope, r.Key),
		UpdateExpression:          aws.String(set),
		ConditionExpression:       aws.String("started = :started"),
		ExpressionAttributeNames:  map[string]string{"#d": "done", "#status": "status", "#loc": "location"},
		ExpressionAttributeValues: values,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		err = idempotency.ErrExists
	}
	if err != nil {
		return fmt.Errorf("complete idempotency record: %w", err)
	}
	return nil
}

// Release implements idempotency.Store with a delete conditional on the
// unfinished claim.
func (s *Store) Release(ctx context.Context, r idempotency.Record) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                &s.table,
		Key:                      s.key(r.Scope, r.Key),
		ConditionExpression:      aws.String("started = :started AND #d = :false"),
		ExpressionAttributeNames: map[string]string{"#d": "done"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":started": number(r.Started.UnixNano()), ":false": &types.AttributeValueMemberBOOL{Value: false},
		},
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) { // another claim's, or completed: not ours to delete
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}
