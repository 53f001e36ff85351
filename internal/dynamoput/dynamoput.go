// Package dynamoput writes whole items with a condition, and tells a write
// that already landed from a real conflict. The SDK retries a PutItem whose
// answer was lost on the way back; the retry's condition then fails against
// the very item the first attempt stored, and that is a success, not a 409.
package dynamoput

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"
)

// API is the part of the DynamoDB client Put uses.
type API interface {
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

// ErrConditionFailed reports a condition that failed against an item other
// than the one written.
var ErrConditionFailed = errors.New("condition failed")

// WriteID is the attribute that tells one write from another: Put stores a
// fresh id in it with every item.
const WriteID = "writeId"

// Put runs in, with a fresh WriteID on the item. When its condition fails,
// it reads the item back by its keys (named by keys, a consistent read) and
// succeeds if the stored item carries this write's id: the SDK sent the same
// request again after the first attempt had landed. Any other item, even one
// with the same content, is a real conflict.
func Put(ctx context.Context, db API, in *dynamodb.PutItemInput, keys ...string) error {
	id := &types.AttributeValueMemberS{Value: uuid.NewString()}
	in.Item[WriteID] = id
	_, err := db.PutItem(ctx, in)
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return err
	}
	key := make(map[string]types.AttributeValue, len(keys))
	for _, k := range keys {
		key[k] = in.Item[k]
	}
	out, gerr := db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: in.TableName, Key: key, ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String("#w"), ExpressionAttributeNames: map[string]string{"#w": WriteID},
	})
	if gerr != nil {
		return fmt.Errorf("read back after a failed condition: %w", gerr)
	}
	if stored, ok := out.Item[WriteID].(*types.AttributeValueMemberS); ok && stored.Value == id.Value {
		return nil // our own earlier attempt
	}
	return fmt.Errorf("%w: %w", ErrConditionFailed, err)
}
