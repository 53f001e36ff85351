package dynamo

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A token is the same for the same attempt of the same request, and
// differs for another attempt, and for requests that differ only in the
// type of a value ("5" as a string or a number).
func TestRequestToken(t *testing.T) {
	update := func(v types.AttributeValue) []types.TransactWriteItem {
		return []types.TransactWriteItem{{Update: &types.Update{TableName: aws.String("stock"), Key: key("p"),
			UpdateExpression: aws.String("SET a = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": v}}}}
	}
	token := func(attempt int, actions []types.TransactWriteItem) string {
		tok, err := requestToken(attempt, actions)
		if err != nil {
			t.Fatal(err)
		}
		if len(tok) != 36 {
			t.Fatalf("token %q: %d characters, DynamoDB takes 36 at most", tok, len(tok))
		}
		return tok
	}
	str, num := update(&types.AttributeValueMemberS{Value: "5"}), update(&types.AttributeValueMemberN{Value: "5"})
	if token(1, str) != token(1, update(&types.AttributeValueMemberS{Value: "5"})) {
		t.Error("the same request has two tokens")
	}
	if token(1, str) == token(1, num) {
		t.Error(`S "5" and N "5" share a token`)
	}
	if token(1, str) == token(2, str) {
		t.Error("a new attempt reuses the cancelled attempt's token")
	}
}
