// Package dynamo is the catalog's store on DynamoDB: one item per product, a
// global secondary index on category, conditional writes on a version, and the
// write's events on the item for the stream publisher. Deletes are soft (a flag
// and a TTL) so that they carry their event.
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventshop/eventshop/internal/catalog"
	"github.com/eventshop/eventshop/internal/dynamopage"
	"github.com/eventshop/eventshop/internal/dynamoput"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/money"
	"github.com/eventshop/eventshop/internal/outbox/outboxitem"
	"github.com/eventshop/eventshop/internal/page"
)

// Names of the table's key attributes, its category index and its TTL attribute.
const (
	KeyID         = "id"
	KeyCategory   = "category"
	CategoryIndex = "byCategory"
	TTLAttribute  = "expiresAt"
)

// DeletedRetention is how long a soft-deleted product stays before TTL removes it.
const DeletedRetention = 7 * 24 * time.Hour

// TableInput describes the table the store needs; the CDK stack declares the same.
func TableInput(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(KeyID), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(KeyCategory), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String(KeyID), KeyType: types.KeyTypeHash}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(CategoryIndex),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(KeyCategory), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(KeyID), KeyType: types.KeyTypeRange},
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

var _ catalog.Store = (*Store)(nil)

// Store implements catalog.Store.
type Store struct {
	db    API
	table string
	now   func() time.Time
}

// New returns the store on table.
func New(db API, table string) *Store { return &Store{db: db, table: table, now: time.Now} }

// item is a product as stored. A soft-deleted item has no category, so it
// drops out of the category index at once.
type item struct {
	ID          string      `dynamodbav:"id"`
	Name        string      `dynamodbav:"name,omitempty"`
	Description string      `dynamodbav:"description,omitempty"`
	ImageFile   string      `dynamodbav:"imageFile,omitempty"`
	Category    string      `dynamodbav:"category,omitempty"`
	Price       money.Cents `dynamodbav:"price,omitempty"`
	Version     int64       `dynamodbav:"version"`
	Deleted     bool        `dynamodbav:"deleted,omitempty"`
	ExpiresAt   int64       `dynamodbav:"expiresAt,omitempty"`
	Outbox      string      `dynamodbav:"outbox,omitempty"`
}

func (it item) product() catalog.Product {
	return catalog.Product{ID: it.ID, Name: it.Name, Description: it.Description, ImageFile: it.ImageFile, Category: it.Category, Price: it.Price, Version: it.Version}
}

func fromProduct(p catalog.Product) item {
	return item{ID: p.ID, Name: p.Name, Description: p.Description, ImageFile: p.ImageFile, Category: p.Category, Price: p.Price, Version: p.Version}
}

func (s *Store) key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{KeyID: &types.AttributeValueMemberS{Value: id}}
}

// Get implements catalog.Store with a strongly consistent read.
func (s *Store) Get(ctx context.Context, id string) (catalog.Product, error) {
	it, err := s.get(ctx, id, true)
	if err != nil {
		return catalog.Product{}, fmt.Errorf("get product %s: %w", id, err)
	}
	return it.product(), nil
}

// Lookup implements catalog.Store with an eventually consistent read.
func (s *Store) Lookup(ctx context.Context, id string) (catalog.Product, error) {
	it, err := s.get(ctx, id, false)
	if err != nil {
		return catalog.Product{}, fmt.Errorf("look up product %s: %w", id, err)
	}
	return it.product(), nil
}

func (s *Store) get(ctx context.Context, id string, consistent bool) (item, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: s.key(id), ConsistentRead: aws.Bool(consistent)})
	if err != nil {
		return item{}, err
	}
	var it item
	if len(out.Item) == 0 {
		return item{}, catalog.ErrNotFound
	}
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return item{}, err
	}
	if it.Deleted {
		return item{}, catalog.ErrNotFound
	}
	return it, nil
}

// List implements catalog.Store. It scans: listing everything is an
// administrator's read, not a user path.
func (s *Store) List(ctx context.Context, req page.Request) (page.Of[catalog.Product], error) {
	return s.collect(ctx, req, []string{KeyID}, func(ctx context.Context, start dynamopage.Item, limit int32) ([]dynamopage.Item, dynamopage.Item, error) {
		out, err := s.db.Scan(ctx, &dynamodb.ScanInput{
			TableName: &s.table, ExclusiveStartKey: start, Limit: &limit, ConsistentRead: aws.Bool(true),
			FilterExpression: aws.String("attribute_not_exists(deleted)"),
		})
		if err != nil {
			return nil, nil, err
		}
		return out.Items, out.LastEvaluatedKey, nil
	})
}

// ListByCategory implements catalog.Store with a query on the category index.
func (s *Store) ListByCategory(ctx context.Context, category string, req page.Request) (page.Of[catalog.Product], error) {
	return s.collect(ctx, req, []string{KeyID, KeyCategory}, func(ctx context.Context, start dynamopage.Item, limit int32) ([]dynamopage.Item, dynamopage.Item, error) {
		out, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName: &s.table, IndexName: aws.String(CategoryIndex), ExclusiveStartKey: start, Limit: &limit,
			KeyConditionExpression:    aws.String("category = :c"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":c": &types.AttributeValueMemberS{Value: category}},
		})
		if err != nil {
			return nil, nil, err
		}
		return out.Items, out.LastEvaluatedKey, nil
	})
}

func (s *Store) collect(ctx context.Context, req page.Request, keys []string, fetch dynamopage.Fetch) (page.Of[catalog.Product], error) {
	res, err := dynamopage.Collect(ctx, req, keys, fetch, func(raw dynamopage.Item) (catalog.Product, error) {
		var it item
		err := attributevalue.UnmarshalMap(raw, &it)
		return it.product(), err
	})
	if err != nil {
		return page.Of[catalog.Product]{}, fmt.Errorf("list products: %w", err)
	}
	return res, nil
}

// Create implements catalog.Store.
func (s *Store) Create(ctx context.Context, p catalog.Product, evts ...events.Outgoing) error {
	err := s.put(ctx, fromProduct(p), evts, "attribute_not_exists(id)", nil)
	if isConditionFailed(err) {
		err = catalog.ErrVersionConflict
	}
	if err != nil {
		return fmt.Errorf("create product %s: %w", p.ID, err)
	}
	return nil
}

// Update implements catalog.Store.
func (s *Store) Update(ctx context.Context, p catalog.Product, evts ...events.Outgoing) error {
	if err := s.conditional(ctx, fromProduct(p), p.Version-1, evts); err != nil {
		return fmt.Errorf("update product %s: %w", p.ID, err)
	}
	return nil
}

// Delete implements catalog.Store: the item stays, flagged, until its TTL.
func (s *Store) Delete(ctx context.Context, id string, version int64, evts ...events.Outgoing) error {
	tomb := item{ID: id, Version: version + 1, Deleted: true, ExpiresAt: s.now().Add(DeletedRetention).Unix()}
	if err := s.conditional(ctx, tomb, version, evts); err != nil {
		return fmt.Errorf("delete product %s: %w", id, err)
	}
	return nil
}

// conditional writes it if the stored, live item is at version prev.
func (s *Store) conditional(ctx context.Context, it item, prev int64, evts []events.Outgoing) error {
	err := s.put(ctx, it, evts, "version = :prev AND attribute_not_exists(deleted)",
		map[string]types.AttributeValue{":prev": &types.AttributeValueMemberN{Value: fmt.Sprint(prev)}})
	if !isConditionFailed(err) {
		return err
	}
	if _, err := s.get(ctx, it.ID, true); err != nil {
		return err // ErrNotFound, or the read failed
	}
	return catalog.ErrVersionConflict
}

func (s *Store) put(ctx context.Context, it item, evts []events.Outgoing, condition string, values map[string]types.AttributeValue) error {
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return err
	}
	if len(evts) > 0 {
		if av[outboxitem.Attribute], err = outboxitem.Encode(evts); err != nil {
			return err
		}
	}
	return dynamoput.Put(ctx, s.db, &dynamodb.PutItemInput{
		TableName: &s.table, Item: av, ConditionExpression: &condition, ExpressionAttributeValues: values,
	}, KeyID)
}

func isConditionFailed(err error) bool { return errors.Is(err, dynamoput.ErrConditionFailed) }
