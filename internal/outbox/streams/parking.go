package streams

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventshop/eventshop/internal/events"
)

// Parked is what the publisher sets aside instead of blocking the stream: the
// events of one stream record that it could not publish and that retrying
// cannot help (EventBridge refused them as malformed or not allowed, or they
// are too large), or whose record grew too old to wait for any longer; or the
// record's unreadable outbox as it was. Nothing is lost: Republish sends the
// events again once the cause is fixed.
type Parked struct {
	ID       string            // the stream record: event source ARN and sequence number
	Reason   string            // why it was set aside
	ParkedAt time.Time         //
	Events   []events.Outgoing // the events not published, when they could be read
	Raw      string            // the outbox attribute as it was, when it could not be read
	// Sources are the sources the publisher that parked it may send: what
	// Republish may send of it.
	Sources []string
}

// ParkingKey is the parked records' table key.
const ParkingKey = "id"

// ParkingTableInput describes the parked records' table; the CDK stack declares the same.
func ParkingTableInput(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(ParkingKey), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(ParkingKey), KeyType: types.KeyTypeHash}},
	}
}

// ParkingAPI is the part of the DynamoDB client the parking table uses.
type ParkingAPI interface {
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// ParkingTable keeps parked records in DynamoDB, one item per stream record.
type ParkingTable struct {
	db    ParkingAPI
	table string
}

// NewParkingTable returns the parking on table.
func NewParkingTable(db ParkingAPI, table string) *ParkingTable {
	return &ParkingTable{db: db, table: table}
}

// parkedItem is a parked record as stored; its events keep the outbox's own
// JSON form.
type parkedItem struct {
	ID       string   `dynamodbav:"id"`
	Reason   string   `dynamodbav:"reason"`
	ParkedAt string   `dynamodbav:"parkedAt"`
	Events   string   `dynamodbav:"events,omitempty"`
	Raw      string   `dynamodbav:"raw,omitempty"`
	Sources  []string `dynamodbav:"sources,stringset,omitempty"`
}

// Park stores p; parking the same record again replaces it.
func (t *ParkingTable) Park(ctx context.Context, p Parked) error {
	it := parkedItem{ID: p.ID, Reason: p.Reason, ParkedAt: p.ParkedAt.UTC().Format(time.RFC3339Nano), Raw: p.Raw, Sources: p.Sources}
	if len(p.Events) > 0 {
		b, err := json.Marshal(p.Events)
		if err != nil {
			return fmt.Errorf("park %s: %w", p.ID, err)
		}
		it.Events = string(b)
	}
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return fmt.Errorf("park %s: %w", p.ID, err)
	}
	if _, err := t.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &t.table, Item: av}); err != nil {
		return fmt.Errorf("park %s: %w", p.ID, err)
	}
	return nil
}

// All returns every parked record. Parked records are rare and meant to be
// looked at: a scan of the small table is the right read.
func (t *ParkingTable) All(ctx context.Context) ([]Parked, error) {
	var out []Parked
	var start map[string]types.AttributeValue
	for {
		res, err := t.db.Scan(ctx, &dynamodb.ScanInput{TableName: &t.table, ExclusiveStartKey: start, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return nil, fmt.Errorf("list parked records: %w", err)
		}
		for _, raw := range res.Items {
			var it parkedItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return nil, fmt.Errorf("read parked record: %w", err)
			}
			p := Parked{ID: it.ID, Reason: it.Reason, Raw: it.Raw, Sources: it.Sources}
			p.ParkedAt, _ = time.Parse(time.RFC3339Nano, it.ParkedAt)
			if it.Events != "" {
				if err := json.Unmarshal([]byte(it.Events), &p.Events); err != nil {
					return nil, fmt.Errorf("read parked record %s: %w", it.ID, err)
				}
			}
			out = append(out, p)
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		start = res.LastEvaluatedKey
	}
}

// Remove deletes the parked record id.
func (t *ParkingTable) Remove(ctx context.Context, id string) error {
	_, err := t.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &t.table, Key: map[string]types.AttributeValue{ParkingKey: &types.AttributeValueMemberS{Value: id}}})
	if err != nil {
		return fmt.Errorf("remove parked record %s: %w", id, err)
	}
	return nil
}
