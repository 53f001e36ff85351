package dynamo_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/eventshop/eventshop/internal/dynamoretry"
	"github.com/eventshop/eventshop/internal/dynamotest"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/inventory"
	"github.com/eventshop/eventshop/internal/inventory/dynamo"
	"github.com/eventshop/eventshop/internal/inventory/storetest"
	"github.com/eventshop/eventshop/internal/outbox/outboxitem"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

// tables makes the store's two tables and returns the store on them.
func tables(t *testing.T, db dynamo.API) (s *dynamo.Store, stock, reservations string) {
	client := dynamotest.Client(t)
	stock, reservations = dynamotest.Table(t, client, dynamo.TableInput), dynamotest.Table(t, client, dynamo.ReservationTableInput)
	return dynamo.New(db, stock, reservations), stock, reservations
}

func TestContract(t *testing.T) {
	type made struct{ stock, reservations string }
	var (
		mu    sync.Mutex
		where = map[inventory.Store]made{}
	)
	storetest.Run(t, storetest.Adapter{
		New: func(t *testing.T) inventory.Store {
			s, stock, reservations := tables(t, dynamotest.Client(t))
			mu.Lock()
			defer mu.Unlock()
			where[s] = made{stock, reservations}
			return s
		},
		Dying: func(t *testing.T, s inventory.Store, n int) inventory.Store {
			mu.Lock()
			defer mu.Unlock()
			m := where[s]
			return dynamo.New(&dynamotest.Dying{API: dynamotest.Client(t), At: n}, m.stock, m.reservations)
		},
		Contended: func(t *testing.T, s inventory.Store, always bool) inventory.Store {
			mu.Lock()
			defer mu.Unlock()
			m := where[s]
			n := int64(dynamoretry.MaxAttempts - 1) // the next write passes at its last attempt
			if always {
				n = 1 << 40
			}
			db, _ := dynamotest.ConflictingClient(t, n)
			return dynamo.New(db, m.stock, m.reservations)
		},
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

// A reservation's events ride on the order's item, for the stream publisher;
// a release replaces them with its own, and a repeat carries none.
func TestEventsRideOnTheOrderItem(t *testing.T) {
	db := dynamotest.Client(t)
	s, stock, table := tables(t, db)
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
	emit := func(o inventory.ReservationOutcome, _ []string) ([]events.Outgoing, error) {
		e, err := events.New(context.Background(), "test", "Reserved", map[string]string{"outcome": string(o)}, time.Now())
		return []events.Outgoing{e}, err
	}
	release := func(lines []inventory.Need) ([]events.Outgoing, error) {
		e, err := events.New(context.Background(), "test", "Released", map[string]int{"lines": len(lines)}, time.Now())
		return []events.Outgoing{e}, err
	}
	if _, err := s.Reserve(t.Context(), "o1", []inventory.Need{{ProductID: "a", Quantity: 1}}, emit); err != nil {
		t.Fatal(err)
	}
	if got := detail(raw(t, db, table, "o1")); got != `{"outcome":"reserved"}` {
		t.Fatalf("after reserve: %s", got)
	}
	if err := s.Release(t.Context(), "o1", release); err != nil {
		t.Fatal(err)
	}
	if got := detail(raw(t, db, table, "o1")); got != `{"lines":1}` {
		t.Fatalf("after release: %s", got)
	}
	if err := s.Release(t.Context(), "o1", release); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw(t, db, stock, "a")[outboxitem.Attribute]; ok {
		t.Fatal("a stock item carries an outbox")
	}
}
