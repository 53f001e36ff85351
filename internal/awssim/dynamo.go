package awssim

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventshop/eventshop/internal/dynamotest"
)

// table is one of the simulation's tables: its key, and its stream if the
// stack gives it one.
type table struct {
	name   string
	keys   []string                                   // key attribute names
	stream *stream                                    // nil: no stream
	last   map[string]map[string]types.AttributeValue // each item's image as last recorded, by key
}

// stream is a table's stream (NEW_IMAGE) with its event source's checkpoint:
// records before pos have been handed on.
type stream struct {
	table     string
	publisher string // the name of the function that reads it
	records   []awsevents.DynamoDBEventRecord
	pos       int
	batch     int  // the next batch's size: halved after a failed invocation (BisectBatchOnError)
	busy      bool // a batch is in flight
}

// ErrDied is what every call of a function's invocation answers from the
// call it died at on: that call was made, its answer is lost.
var ErrDied = errors.New("the function died (awssim)")

// db is the DynamoDB client every simulated function shares: dynalite, the
// faults the plan injects before a call, the function's death after one,
// and the stream records of each write, read back from the table (dynalite
// has no streams).
type db struct {
	sim     *Sim
	c       *dynamodb.Client // the functions', through the plan's faults
	harness *dynamodb.Client // the run's own
	tables  map[string]*table
}

func (d *db) record(ctx context.Context, tableName string, key map[string]types.AttributeValue) error {
	t := d.tables[tableName]
	if t == nil {
		return fmt.Errorf("write to table %s, which the simulation does not know", tableName)
	}
	k := keyString(t.keys, key)
	out, err := d.harness.GetItem(ctx, &dynamodb.GetItemInput{TableName: &t.name, Key: keyOnly(t.keys, key), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return fmt.Errorf("read back %s %s: %w", tableName, k, err)
	}
	before, existed := t.last[k]
	if reflect.DeepEqual(before, out.Item) {
		return nil // a write that changed nothing has no stream record, as on DynamoDB
	}
	if len(out.Item) == 0 {
		delete(t.last, k)
	} else {
		t.last[k] = out.Item
	}
	if t.stream == nil {
		return nil
	}
	name := awsevents.DynamoDBOperationTypeModify
	switch {
	case len(out.Item) == 0:
		name = awsevents.DynamoDBOperationTypeRemove
	case !existed:
		name = awsevents.DynamoDBOperationTypeInsert
	}
	d.sim.seq++
	t.stream.records = append(t.stream.records, awsevents.DynamoDBEventRecord{
		EventID: "r" + strconv.Itoa(d.sim.seq), EventName: string(name), EventSource: "aws:dynamodb", AWSRegion: region,
		Change: awsevents.DynamoDBStreamRecord{
			ApproximateCreationDateTime: awsevents.SecondsEpochTime{Time: time.Now()},
			Keys:                        dynamotest.StreamImage(keyOnly(t.keys, key)),
			NewImage:                    dynamotest.StreamImage(out.Item),
			SequenceNumber:              fmt.Sprintf("%021d", d.sim.seq),
			StreamViewType:              string(awsevents.DynamoDBStreamViewTypeNewImage),
		},
	})
	return nil
}

func keyOnly(keys []string, item map[string]types.AttributeValue) map[string]types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(keys))
	for _, k := range keys {
		out[k] = item[k]
	}
	return out
}

func keyString(keys []string, item map[string]types.AttributeValue) string {
	s := ""
	for _, k := range keys {
		s += fmt.Sprintf("%v|", item[k])
	}
	return s
}

// call makes a call as the current invocation would: faults before it, the
// function's death after it, and the stream records of what it wrote.
func call[In, Out any](ctx context.Context, d *db, op string, in In, writes func(In) []write, f func(context.Context, In, ...func(*dynamodb.Options)) (Out, error), opts []func(*dynamodb.Options)) (Out, error) {
	var zero Out
	s := d.sim
	s.sched.park(ctx, op)
	if err := s.before(ctx, op, in); err != nil {
		return zero, err
	}
	var keys []string
	if writes != nil && invocationOf(ctx) != nil {
		for _, w := range writes(in) {
			keys = append(keys, d.itemKey(w))
		}
	}
	if op == "TransactWriteItems" && len(keys) > 0 {
		// In flight: its items are held while the others go on, then it
		// commits. One held by another transaction cancels it, as DynamoDB does.
		if err := s.hold(ctx, any(in).(*dynamodb.TransactWriteItemsInput), keys); err != nil {
			return zero, err
		}
		defer s.release(keys)
		s.sched.park(ctx, "commit")
	} else if len(keys) > 0 {
		ctx = context.WithValue(ctx, writingKey{}, keys)
	}
	out, err := f(ctx, in, opts...)
	if err == nil && writes != nil {
		for _, w := range writes(in) {
			if rerr := d.record(context.WithoutCancel(ctx), w.table, w.key); rerr != nil { // the stream's work, not the function's
				s.broken(rerr)
			}
		}
	}
	if derr := s.after(ctx, op); derr != nil {
		return zero, derr
	}
	return out, err
}

type write struct {
	table string
	key   map[string]types.AttributeValue
}

func (d *db) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return call(ctx, d, "GetItem", in, nil, d.c.GetItem, opts)
}

func (d *db) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return call(ctx, d, "BatchGetItem", in, nil, d.c.BatchGetItem, opts)
}

func (d *db) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return call(ctx, d, "Query", in, nil, d.c.Query, opts)
}

func (d *db) Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	return call(ctx, d, "Scan", in, nil, d.c.Scan, opts)
}

func (d *db) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return call(ctx, d, "PutItem", in, func(in *dynamodb.PutItemInput) []write { return []write{{*in.TableName, in.Item}} }, d.c.PutItem, opts)
}

func (d *db) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return call(ctx, d, "UpdateItem", in, func(in *dynamodb.UpdateItemInput) []write { return []write{{*in.TableName, in.Key}} }, d.c.UpdateItem, opts)
}

func (d *db) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return call(ctx, d, "DeleteItem", in, func(in *dynamodb.DeleteItemInput) []write { return []write{{*in.TableName, in.Key}} }, d.c.DeleteItem, opts)
}

func (d *db) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return call(ctx, d, "TransactWriteItems", in, func(in *dynamodb.TransactWriteItemsInput) []write {
		var out []write
		for _, a := range in.TransactItems {
			switch {
			case a.Put != nil:
				out = append(out, write{*a.Put.TableName, a.Put.Item})
			case a.Update != nil:
				out = append(out, write{*a.Update.TableName, a.Update.Key})
			case a.Delete != nil:
				out = append(out, write{*a.Delete.TableName, a.Delete.Key})
			}
		}
		return out
	}, d.c.TransactWriteItems, opts)
}

// itemKey names the item w writes, across tables.
func (d *db) itemKey(w write) string {
	if t := d.tables[w.table]; t != nil {
		return w.table + "|" + keyString(t.keys, w.key)
	}
	return w.table + "|?"
}

// writingKey carries, to the wire, the item a single-item write writes.
type writingKey struct{}

// hold marks keys as held by ctx's transaction, unless one is held by
// another: then the transaction is cancelled with TransactionConflict at
// that item, as DynamoDB cancels one that meets a transaction in flight.
func (s *Sim) hold(ctx context.Context, in *dynamodb.TransactWriteItemsInput, keys []string) error {
	me := taskOf(ctx)
	for i, k := range keys {
		if holder, ok := s.held[k]; ok && (me == nil || holder != me.id) {
			s.count("TransactionConflict with a transaction in flight")
			reasons := make([]types.CancellationReason, len(in.TransactItems))
			for j := range reasons {
				reasons[j].Code = aws.String("None")
			}
			if i < len(reasons) {
				reasons[i].Code = aws.String("TransactionConflict")
			}
			return &types.TransactionCanceledException{Message: aws.String("Transaction cancelled: a transaction in flight holds an item (awssim)"), CancellationReasons: reasons}
		}
	}
	id := "run"
	if me != nil {
		id = me.id
	}
	for _, k := range keys {
		s.held[k] = id
	}
	return nil
}

func (s *Sim) release(keys []string) {
	for _, k := range keys {
		delete(s.held, k)
	}
}
