package dynamo_test

import (
	"maps"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventshop/eventshop/internal/dynamotest"
	"github.com/eventshop/eventshop/internal/ordering"
	"github.com/eventshop/eventshop/internal/ordering/dynamo"
)

// The attribute names of a stored order are the table's, whatever the API
// calls its fields: renaming one would leave stored orders unreadable.
func TestStoredAttributesArePinned(t *testing.T) {
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db, dynamo.TableInput)
	s := dynamo.New(db, table)
	o := ordering.Order{
		OrderID: "o1", UserName: "ada", Status: ordering.StatusPlaced,
		Lines:      []ordering.Line{{ProductID: "p1", ProductName: "Widget", Color: "red", Quantity: 2, UnitPrice: 1999, LineTotal: 3998}},
		TotalPrice: 3998, FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com", Address: "1 St",
		PaymentMethod: "invoice", OrderDate: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		History: []ordering.Change{{Status: ordering.StatusPlaced, At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}}, Version: 1,
	}
	if err := s.Create(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	out, err := db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: &table, Key: map[string]types.AttributeValue{
		dynamo.KeyUserName: &types.AttributeValueMemberS{Value: "ada"},
		dynamo.KeyOrderID:  &types.AttributeValueMemberS{Value: "o1"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"address", "email", "firstName", "history", "lastName", "lines", "orderDate", "orderId", "paymentMethod", "status", "statusShard", "totalPrice", "userName", "version", "writeId"}
	if got := slices.Sorted(maps.Keys(out.Item)); !slices.Equal(got, want) {
		t.Fatalf("attributes %v, want %v", got, want)
	}
	line := out.Item["lines"].(*types.AttributeValueMemberL).Value[0].(*types.AttributeValueMemberM).Value
	if got, want := slices.Sorted(maps.Keys(line)), []string{"color", "lineTotal", "productId", "productName", "quantity", "unitPrice"}; !slices.Equal(got, want) {
		t.Fatalf("line attributes %v, want %v", got, want)
	}
	if n := out.Item["totalPrice"].(*types.AttributeValueMemberN).Value; n != "3998" {
		t.Fatalf("totalPrice stored as %s, want 3998 (cents)", n)
	}
	if k := out.Item["statusShard"].(*types.AttributeValueMemberS).Value; !regexp.MustCompile(`^PLACED#[0-3]$`).MatchString(k) {
		t.Fatalf("statusShard stored as %s, want PLACED#0 to PLACED#3", k)
	}
	if d := out.Item["orderDate"].(*types.AttributeValueMemberS).Value; d != "2026-01-02T03:04:05Z" {
		t.Fatalf("orderDate stored as %s", d)
	}
}
