package dynamotest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/eventshop/eventshop/internal/dynamotest"
)

func idTable(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
	}
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// TransactWriteItems is served by tools/dynalite/server.js, not by dynalite:
// these are the behaviours of DynamoDB's the project relies on.
func TestTransactWriteItems(t *testing.T) {
	db := dynamotest.Client(t)
	ctx := t.Context()
	one, two := dynamotest.Table(t, db, idTable), dynamotest.Table(t, db, idTable)
	get := func(table, id string) map[string]types.AttributeValue {
		t.Helper()
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: map[string]types.AttributeValue{"id": s(id)}, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		return out.Item
	}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &two, Item: map[string]types.AttributeValue{"id": s("price"), "v": s("1")}}); err != nil {
		t.Fatal(err)
	}
	write := func(id, priceVersion string) *dynamodb.TransactWriteItemsInput {
		return &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: &one, Item: map[string]types.AttributeValue{"id": s(id), "n": s("first")}, ConditionExpression: aws.String("attribute_not_exists(id)")}},
			{ConditionCheck: &types.ConditionCheck{TableName: &two, Key: map[string]types.AttributeValue{"id": s("price")},
				ConditionExpression: aws.String("v = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": s(priceVersion)},
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
		}}
	}

	t.Run("all conditions hold: every write lands", func(t *testing.T) {
		if _, err := db.TransactWriteItems(ctx, write("a", "1")); err != nil {
			t.Fatal(err)
		}
		if got := get(one, "a"); got == nil {
			t.Fatal("the Put did not land")
		}
	})

	t.Run("a condition fails: nothing lands, reasons in order", func(t *testing.T) {
		_, err := db.TransactWriteItems(ctx, write("b", "2"))
		var canceled *types.TransactionCanceledException
		if !errors.As(err, &canceled) {
			t.Fatalf("err = %v, want TransactionCanceledException", err)
		}
		if r := canceled.CancellationReasons; len(r) != 2 || aws.ToString(r[0].Code) != "None" || aws.ToString(r[1].Code) != "ConditionalCheckFailed" {
			t.Fatalf("reasons = %+v, want None, ConditionalCheckFailed", r)
		}
		if old, ok := canceled.CancellationReasons[1].Item["v"].(*types.AttributeValueMemberS); !ok || old.Value != "1" {
			t.Errorf("the failed check's old item = %v, want v=1 (ALL_OLD)", canceled.CancellationReasons[1].Item)
		}
		if got := get(one, "b"); got != nil {
			t.Fatalf("the Put landed though the transaction was cancelled: %v", got)
		}
	})

	t.Run("a token that succeeded succeeds again without writing", func(t *testing.T) {
		in := write("c", "1")
		in.ClientRequestToken = aws.String("token-" + one) // tokens are per account: one per test run
		if _, err := db.TransactWriteItems(ctx, in); err != nil {
			t.Fatal(err)
		}
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &one, Item: map[string]types.AttributeValue{"id": s("c"), "n": s("later")}}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.TransactWriteItems(ctx, in); err != nil { // its condition would fail now: c exists
			t.Fatalf("the same request under its token again: %v", err)
		}
		if n := get(one, "c")["n"].(*types.AttributeValueMemberS).Value; n != "later" {
			t.Fatalf("item c = %q: the repeated request wrote again", n)
		}
		other := write("d", "1")
		other.ClientRequestToken = in.ClientRequestToken
		var mismatch *types.IdempotentParameterMismatchException
		if _, err := db.TransactWriteItems(ctx, other); !errors.As(err, &mismatch) {
			t.Fatalf("another request under the same token: %v, want IdempotentParameterMismatchException", err)
		}
	})

	t.Run("Delete, and bad requests", func(t *testing.T) {
		del := &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Delete: &types.Delete{TableName: &one, Key: map[string]types.AttributeValue{"id": s("a")}, ConditionExpression: aws.String("attribute_exists(id)")}},
		}}
		if _, err := db.TransactWriteItems(ctx, del); err != nil {
			t.Fatal(err)
		}
		if got := get(one, "a"); got != nil {
			t.Fatalf("item a after its Delete: %v", got)
		}
		twice := &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: &one, Item: map[string]types.AttributeValue{"id": s("e")}}},
			{ConditionCheck: &types.ConditionCheck{TableName: &one, Key: map[string]types.AttributeValue{"id": s("e")}, ConditionExpression: aws.String("attribute_not_exists(id)")}},
		}}
		key := &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{TableName: &one, Key: map[string]types.AttributeValue{"id": s("e")}, UpdateExpression: aws.String("SET id = :n"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":n": s("x")}}},
		}}
		noCondition := &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{ConditionCheck: &types.ConditionCheck{TableName: &one, Key: map[string]types.AttributeValue{"id": s("e")}}},
		}}
		for name, in := range map[string]*dynamodb.TransactWriteItemsInput{"two actions on one item": twice, "an Update of the key": key} {
			var api smithy.APIError
			if _, err := db.TransactWriteItems(ctx, in); !errors.As(err, &api) || api.ErrorCode() != "ValidationException" {
				t.Errorf("%s: %v, want ValidationException", name, err)
			}
		}
		if _, err := db.TransactWriteItems(ctx, noCondition); err == nil {
			t.Error("a ConditionCheck without a condition was accepted")
		}
		if got := get(one, "e"); got != nil {
			t.Fatalf("a refused request wrote item e: %v", got)
		}
	})

	t.Run("Update: conditions and expressions on the items as they are", func(t *testing.T) {
		n := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &one, Item: map[string]types.AttributeValue{"id": s("stock"), "available": n("5"), "reserved": n("0"), "tag": s("x"), "note": s("ten")}}); err != nil {
			t.Fatal(err)
		}
		take := func(q string) *dynamodb.TransactWriteItemsInput {
			return &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
				{Update: &types.Update{TableName: &one, Key: map[string]types.AttributeValue{"id": s("stock")},
					UpdateExpression:    aws.String("SET available = available - :q, reserved = reserved + :q, seen = if_not_exists(seen, :zero) + :one REMOVE tag"),
					ConditionExpression: aws.String("available >= :q"), ExpressionAttributeValues: map[string]types.AttributeValue{":q": n(q), ":zero": n("0"), ":one": n("1")},
					ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
				{Update: &types.Update{TableName: &two, Key: map[string]types.AttributeValue{"id": s("hold-" + q)}, // no such item yet: created
					UpdateExpression: aws.String("SET quantity = :q"), ConditionExpression: aws.String("attribute_not_exists(id)"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":q": n(q)}}},
			}}
		}
		if _, err := db.TransactWriteItems(ctx, take("3")); err != nil {
			t.Fatal(err)
		}
		stock := get(one, "stock")
		want := map[string]string{"available": "2", "reserved": "3", "seen": "1"}
		for name, v := range want {
			if got, ok := stock[name].(*types.AttributeValueMemberN); !ok || got.Value != v {
				t.Errorf("%s = %v, want %s", name, stock[name], v)
			}
		}
		if _, ok := stock["tag"]; ok {
			t.Error("REMOVE tag left it")
		}
		if hold := get(two, "hold-3"); hold == nil || hold["quantity"].(*types.AttributeValueMemberN).Value != "3" {
			t.Errorf("the Update of a missing item: %v, want it created with quantity 3", hold)
		}

		_, err := db.TransactWriteItems(ctx, take("4"))
		var canceled *types.TransactionCanceledException
		if !errors.As(err, &canceled) || len(canceled.CancellationReasons) != 2 || aws.ToString(canceled.CancellationReasons[0].Code) != "ConditionalCheckFailed" {
			t.Fatalf("taking 4 of 2: %v, want the first action's condition failed", err)
		}
		if old := canceled.CancellationReasons[0].Item["available"]; old == nil || old.(*types.AttributeValueMemberN).Value != "2" {
			t.Errorf("the old item with the reason: %v", canceled.CancellationReasons[0].Item)
		}
		if got := get(two, "hold-4"); got != nil {
			t.Fatalf("the other action of a cancelled transaction landed: %v", got)
		}

		wrongType := &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{TableName: &one, Key: map[string]types.AttributeValue{"id": s("stock")}, UpdateExpression: aws.String("SET reserved = note + :one"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":one": n("1")}}},
			{Put: &types.Put{TableName: &two, Item: map[string]types.AttributeValue{"id": s("after-wrong-type")}}},
		}}
		_, err = db.TransactWriteItems(ctx, wrongType)
		if !errors.As(err, &canceled) || aws.ToString(canceled.CancellationReasons[0].Code) != "ValidationError" || aws.ToString(canceled.CancellationReasons[1].Code) != "None" {
			t.Fatalf("a string attribute plus a number: %v, want cancelled with ValidationError", err)
		}
		if get(two, "after-wrong-type") != nil {
			t.Fatal("a transaction cancelled by a ValidationError wrote")
		}

		big := &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{TableName: &one, Key: map[string]types.AttributeValue{"id": s("stock")}, UpdateExpression: aws.String("SET padding = :b"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":b": s(strings.Repeat("x", 401*1024))}}},
		}}
		if _, err := db.TransactWriteItems(ctx, big); !errors.As(err, &canceled) || aws.ToString(canceled.CancellationReasons[0].Code) != "ValidationError" {
			t.Fatalf("an item past 400 KB: %v, want cancelled with ValidationError", err)
		}
		if _, ok := get(one, "stock")["padding"]; ok {
			t.Fatal("the item past 400 KB was written")
		}
	})
}
