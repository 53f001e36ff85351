package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/eventshop/eventshop/client"
)

// A program that checks out alice's basket and waits for her order.
func Example() {
	ctx := context.Background()
	shop, err := client.New("http://127.0.0.1:8080", client.WithBearer("TOKEN")) // shop token --user alice
	if err != nil {
		panic(err)
	}
	buyer := client.Checkout{FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com", Address: "1 Analytical St", PaymentMethod: "invoice"}
	checkout, err := shop.CheckoutBasketWithResponse(ctx, &client.CheckoutBasketParams{IdempotencyKey: client.Key("checkout-2026-12-05-1")}, buyer)
	if err == nil {
		err = client.Check(checkout.HTTPResponse, checkout.Body)
	}
	var problem *client.Problem
	if errors.As(err, &problem) && problem.Status == http.StatusUnprocessableEntity {
		fmt.Println("the basket is empty")
		return
	}
	if err != nil {
		panic(err)
	}
	order, err := shop.GetOrderWithResponse(ctx, "alice", checkout.JSON202.OrderId, &client.GetOrderParams{Prefer: client.Wait(5)})
	if err == nil {
		err = client.Check(order.HTTPResponse, order.Body)
	}
	if err != nil {
		panic(err)
	}
	fmt.Println(order.JSON200.Status)
}
