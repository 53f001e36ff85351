package dynamoretry_test

import (
	"errors"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/eventshop/eventshop/internal/dynamoretry"
	"github.com/eventshop/eventshop/internal/dynamotest"
	"github.com/eventshop/eventshop/internal/kind"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

func table(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:            &name,
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		BillingMode:          types.BillingModePayPerRequest,
	}
}

// A write that meets a transaction at every attempt is made MaxAttempts
// times, then answered as Busy, an Unavailable outcome that still says
// what DynamoDB answered; one that meets fewer conflicts passes.
func TestConflictsAreWaitedOutThenBusy(t *testing.T) {
	name := dynamotest.Table(t, dynamotest.Client(t), table)
	put := &dynamodb.PutItemInput{TableName: &name, Item: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "a"}}}

	db, conflicts := dynamotest.ConflictingClient(t, dynamoretry.MaxAttempts-1)
	if _, err := db.PutItem(t.Context(), put); err != nil || conflicts.Met.Load() != dynamoretry.MaxAttempts-1 {
		t.Fatalf("after %d conflicts: %v; want it written at the last attempt", conflicts.Met.Load(), err)
	}

	db, conflicts = dynamotest.ConflictingClient(t, 1<<40)
	_, err := db.PutItem(t.Context(), put)
	var busy *dynamoretry.Busy
	var api smithy.APIError
	if _, k := kind.Of(err); !errors.As(err, &busy) || k != kind.Unavailable || !errors.As(err, &api) || api.ErrorCode() != dynamoretry.Conflict {
		t.Fatalf("conflicts to the end: %v (%v); want Busy, Unavailable, wrapping %s", err, k, dynamoretry.Conflict)
	}
	if got := conflicts.Met.Load(); got != dynamoretry.MaxAttempts {
		t.Fatalf("%d attempts, want %d", got, dynamoretry.MaxAttempts)
	}
}
