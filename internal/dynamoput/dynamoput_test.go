package dynamoput_test

import (
	"errors"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventshop/eventshop/internal/dynamoput"
	"github.com/eventshop/eventshop/internal/dynamotest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

func table(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
	}
}

func item(id, outbox string, version int) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"id":      &types.AttributeValueMemberS{Value: id},
		"outbox":  &types.AttributeValueMemberS{Value: outbox},
		"version": &types.AttributeValueMemberN{Value: string(rune('0' + version))},
		"lines":   &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"q": &types.AttributeValueMemberN{Value: "3"}}}}},
	}
}

func TestARetriedWriteThatLandedIsASuccess(t *testing.T) {
	db := dynamotest.Client(t)
	name := dynamotest.Table(t, db, table)
	create := func(it map[string]types.AttributeValue) *dynamodb.PutItemInput {
		return &dynamodb.PutItemInput{TableName: &name, Item: it, ConditionExpression: aws.String("attribute_not_exists(id)")}
	}
	if err := dynamoput.Put(t.Context(), dynamotest.RetriedPuts{Client: db}, create(item("a", "event-1", 1)), "id"); err != nil {
		t.Fatalf("a create whose retry found its own item: %v", err)
	}
	if err := dynamoput.Put(t.Context(), db, create(item("a", "event-2", 1)), "id"); !errors.Is(err, dynamoput.ErrConditionFailed) {
		t.Fatalf("a create of an id someone else stored: %v, want ErrConditionFailed", err)
	}
	update := &dynamodb.PutItemInput{
		TableName: &name, Item: item("a", "event-3", 2), ConditionExpression: aws.String("version = :prev"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":prev": &types.AttributeValueMemberN{Value: "1"}},
	}
	if err := dynamoput.Put(t.Context(), dynamotest.RetriedPuts{Client: db}, update, "id"); err != nil {
		t.Fatalf("an update whose retry found its own item: %v", err)
	}
	again := *update
	again.Item = item("a", "event-3", 2)
	if err := dynamoput.Put(t.Context(), db, &again, "id"); !errors.Is(err, dynamoput.ErrConditionFailed) {
		t.Fatalf("another write of the same content: %v, want ErrConditionFailed (it is not this write)", err)
	}
	stale := *update
	stale.Item = item("a", "event-4", 2)
	if err := dynamoput.Put(t.Context(), db, &stale, "id"); !errors.Is(err, dynamoput.ErrConditionFailed) {
		t.Fatalf("an update that lost the race: %v, want ErrConditionFailed", err)
	}
}
