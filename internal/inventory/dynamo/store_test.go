package dynamo_test

import (
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/eventshop/eventshop/internal/dynamotest"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/inventory"
	"github.com/eventshop/eventshop/internal/inventory/dynamo"
	"github.com/eventshop/eventshop/internal/inventory/storetest"
	"github.com/eventshop/eventshop/internal/outbox/outboxitem"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) inventory.Store {
		db := dynamotest.Client(t)
		return dynamo.New(db, dynamotest.Table(t, db, dynamo.TableInput))
	})
}

func raw(t *testing.T, db *dynamodb.Client, table, id string) map[string]types.AttributeValue {
	t.Helper()
	out, err := db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: &table, Key: map[string]types.AttributeValue{dynamo.KeyID: &types.AttributeValueMemberS{Value: id}}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

// An attempt that died after taking a line leaves its claim and its hold; once
// the lease is over, a retry takes the order over, counts the hold as taken
// and reserves without taking the units twice. While the lease runs, the
// order is busy.
func TestATakeOverAfterACrashConverges(t *testing.T) {
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db, dynamo.TableInput)
	s := dynamo.New(db, table)
	if _, err := s.Announce(t.Context(), "a", 1, false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetAvailable(t.Context(), "a", 5, 0); err != nil {
		t.Fatal(err)
	}
	// What the dead attempt left: a claim and a hold of 2 units.
	claim := func(started time.Time) {
		if _, err := db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: &table, Item: map[string]types.AttributeValue{
			dynamo.KeyID: &types.AttributeValueMemberS{Value: "order#o1"}, "outcome": &types.AttributeValueMemberS{Value: "pending"},
			"attempt": &types.AttributeValueMemberS{Value: "dead"}, "started": &types.AttributeValueMemberN{Value: fmt.Sprint(started.UnixNano())},
		}}); err != nil {
			t.Fatal(err)
		}
	}
	claim(time.Now())
	if _, err := db.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{
		TableName: &table, Key: map[string]types.AttributeValue{dynamo.KeyID: &types.AttributeValueMemberS{Value: "a"}},
		UpdateExpression:          aws.String("SET available = available - :q, reserved = reserved + :q, holds.o1 = :q"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":q": &types.AttributeValueMemberN{Value: "2"}},
	}); err != nil {
		t.Fatal(err)
	}
	lines := []inventory.Line{{ProductID: "a", Quantity: 2}}
	if _, err := s.Reserve(t.Context(), "o1", lines, nil); !errors.Is(err, dynamo.ErrBusy) {
		t.Fatalf("while the dead attempt's lease runs: %v, want ErrBusy", err)
	}
	claim(time.Now().Add(-dynamo.Lease - time.Second))
	if got, err := s.Reserve(t.Context(), "o1", lines, nil); err != nil || got != inventory.Reserved {
		t.Fatalf("after the lease: %v, %v", got, err)
	}
	if st, _ := s.Get(t.Context(), "a"); st.Available != 3 || st.Reserved != 2 {
		t.Fatalf("stock %+v, want 3 available and 2 reserved: the hold counted once", st)
	}
}

// A reservation's events ride on the order's item, for the stream publisher;
// a release replaces them with its own, and a repeat carries none.
func TestEventsRideOnTheOrderItem(t *testing.T) {
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db, dynamo.TableInput)
	s := dynamo.New(db, table)
	if _, err := s.Announce(t.Context(), "a", 1, false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetAvailable(t.Context(), "a", 5, 0); err != nil {
		t.Fatal(err)
	}
	detail := func(item map[string]types.AttributeValue) string {
		av, ok := item[outboxitem.Attribute].(*types.AttributeValueMemberS)
		if !ok {
			return ""
		}
		evts, err := outboxitem.Decode(av.Value)
		if err != nil || len(evts) != 1 {
			t.Fatalf("outbox %s: %v", av.Value, err)
		}
		return string(evts[0].Detail)
	}
	emit := func(o inventory.Outcome) ([]events.Outgoing, error) {
		e, err := events.New("test", "Reserved", map[string]string{"outcome": string(o)}, time.Now())
		return []events.Outgoing{e}, err
	}
	release := func(lines []inventory.Line) ([]events.Outgoing, error) {
		e, err := events.New("test", "Released", map[string]int{"lines": len(lines)}, time.Now())
		return []events.Outgoing{e}, err
	}
	if _, err := s.Reserve(t.Context(), "o1", []inventory.Line{{ProductID: "a", Quantity: 1}}, emit); err != nil {
		t.Fatal(err)
	}
	if got := detail(raw(t, db, table, "order#o1")); got != `{"outcome":"reserved"}` {
		t.Fatalf("after reserve: %s", got)
	}
	if err := s.Release(t.Context(), "o1", release); err != nil {
		t.Fatal(err)
	}
	if got := detail(raw(t, db, table, "order#o1")); got != `{"lines":1}` {
		t.Fatalf("after release: %s", got)
	}
	if err := s.Release(t.Context(), "o1", release); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw(t, db, table, "a")[outboxitem.Attribute]; ok {
		t.Fatal("a stock item carries an outbox")
	}
}
