// Command apiclient uses the client generated from api/openapi.yaml, by the
// names its operationIds give, so that a rename or a lost operation fails the
// build of make api-check.
package main

import (
	"fmt"
	"os"

	"github.com/eventshop/eventshop/tools/apiclient/client"
)

func main() {
	c, err := client.NewClientWithResponses("http://127.0.0.1:8080")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	calls := []any{
		c.ListProductsWithResponse, c.CreateProductWithResponse, c.GetProductWithResponse, c.UpdateProductWithResponse, c.DeleteProductWithResponse,
		c.ListBasketsWithResponse, c.ReplaceBasketWithResponse, c.CheckoutBasketWithResponse, c.GetBasketWithResponse, c.DeleteBasketWithResponse,
		c.ListOrdersWithResponse, c.ListUserOrdersWithResponse, c.GetOrderWithResponse, c.CancelOrderWithResponse, c.ShipOrderWithResponse,
		c.GetStockWithResponse, c.GetStockAdminWithResponse, c.SetStockWithResponse,
		c.ListQueuesWithResponse, c.ListDeadLettersWithResponse, c.GetDeadLetterWithResponse, c.DeleteDeadLetterWithResponse,
		c.RedriveDeadLettersWithResponse, c.RedriveDeadLetterWithResponse,
		c.ListTracesWithResponse, c.GetTraceWithResponse, c.GetMetricsWithResponse, c.StreamEventsWithResponse, c.ListOutboxesWithResponse, c.DevSignInWithResponse,
	}
	var body client.CheckoutBasketJSONRequestBody
	body.FirstName, body.PaymentMethod = "Ada", "invoice"
	fmt.Printf("the generated client has %d operations\n", len(calls))
}
