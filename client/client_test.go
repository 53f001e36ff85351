package client_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventshop/eventshop/api"
	"github.com/eventshop/eventshop/client"
	"github.com/eventshop/eventshop/internal/localapp"
	"github.com/eventshop/eventshop/internal/localapp/localapptest"
	"github.com/eventshop/eventshop/internal/waittest"
)

// TestTheShopThroughTheClient drives the real shop, in-process over HTTP,
// through the generated client as another Go program would: an admin
// creates a product, a customer fills a basket, checks out with an
// Idempotency-Key, waits for the order with Prefer: wait, and cancels it.
func TestTheShopThroughTheClient(t *testing.T) {
	shop := localapptest.Start(t, localapp.Config{DataDir: t.TempDir()})
	as := func(user string, admin bool) *client.ClientWithResponses {
		t.Helper()
		token, err := shop.Keys.Issue(user, admin, time.Hour, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		c, err := client.New(shop.Server.URL, client.WithBearer(token))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	admin, alice := as("root", true), as("alice", false)
	ctx := t.Context()
	must := func(res *http.Response, body []byte, err error) {
		t.Helper()
		if err == nil {
			err = client.Check(res, body)
		}
		if err != nil {
			t.Fatalf("%s %s: %v", res.Request.Method, res.Request.URL.Path, err)
		}
	}

	widget := client.ProductInput{Name: "Widget", Category: "Tools", Price: 19.99}
	refused, err := alice.CreateProductWithResponse(ctx, &client.CreateProductParams{}, widget)
	var problem *client.Problem
	if err != nil || !errors.As(client.Check(refused.HTTPResponse, refused.Body), &problem) || problem.Status != http.StatusForbidden {
		t.Fatalf("a customer creating a product: %v, %v; want a 403 problem", err, problem)
	}
	created, err := admin.CreateProductWithResponse(ctx, &client.CreateProductParams{IdempotencyKey: client.Key("widget-1")}, widget)
	must(created.HTTPResponse, created.Body, err)
	product := created.JSON201

	basket := client.BasketInput{Items: &[]client.BasketItemInput{{ProductId: product.Id, Quantity: 3}}}
	var filled *client.ReplaceBasketResponse
	waittest.For(t, "the basket to know the new product", func() bool {
		filled, err = alice.ReplaceBasketWithResponse(ctx, basket)
		return err == nil && filled.JSON200 != nil
	})
	if filled.JSON200.TotalPrice != 59.97 {
		t.Fatalf("basket total %v, want 59.97 (the server's price)", filled.JSON200.TotalPrice)
	}

	buyer := client.Checkout{FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com", Address: "1 Analytical St", PaymentMethod: "invoice"}
	key := &client.CheckoutBasketParams{IdempotencyKey: client.Key("checkout-1")}
	first, err := alice.CheckoutBasketWithResponse(ctx, key, buyer)
	must(first.HTTPResponse, first.Body, err)
	again, err := alice.CheckoutBasketWithResponse(ctx, key, buyer)
	must(again.HTTPResponse, again.Body, err)
	if again.JSON202.OrderId != first.JSON202.OrderId {
		t.Fatalf("a retried checkout made order %s besides %s", again.JSON202.OrderId, first.JSON202.OrderId)
	}

	order, err := alice.GetOrderWithResponse(ctx, "alice", first.JSON202.OrderId, &client.GetOrderParams{Prefer: client.Wait(5)})
	must(order.HTTPResponse, order.Body, err)
	if order.JSON200.TotalPrice != 59.97 {
		t.Fatalf("order %+v, want 59.97", order.JSON200)
	}
	cancelled, err := alice.CancelOrderWithResponse(ctx, "alice", first.JSON202.OrderId)
	must(cancelled.HTTPResponse, cancelled.Body, err)
	if cancelled.JSON202.Status != client.OrderStatusCANCELLED {
		t.Fatalf("cancelled order is %s", cancelled.JSON202.Status)
	}
	missing, err := alice.GetOrderWithResponse(ctx, "alice", "0193a1b2-c3d4-7e5f-8a9b-000000000000", nil)
	if err != nil || !errors.As(client.Check(missing.HTTPResponse, missing.Body), &problem) || problem.Status != http.StatusNotFound {
		t.Fatalf("a missing order: %v, %v; want a 404 problem", err, problem)
	}
}

// Every operation of the document has its call, by the name its operationId
// gives: a renamed or lost operation fails the build of this test, and one
// added to the document without being listed here fails it.
func TestEveryOperationHasItsName(t *testing.T) {
	var c client.ClientWithResponses
	calls := []any{
		c.ListProductsWithResponse, c.CreateProductWithResponse, c.GetProductWithResponse, c.UpdateProductWithResponse, c.DeleteProductWithResponse,
		c.ListBasketsWithResponse, c.ReplaceBasketWithResponse, c.CheckoutBasketWithResponse, c.GetBasketWithResponse, c.DeleteBasketWithResponse,
		c.ListOrdersWithResponse, c.ListUserOrdersWithResponse, c.GetOrderWithResponse, c.CancelOrderWithResponse, c.ShipOrderWithResponse,
		c.GetStockWithResponse, c.GetStockAdminWithResponse, c.SetStockWithResponse, c.AdjustStockWithResponse,
		c.ListQueuesWithResponse, c.ListDeadLettersWithResponse, c.GetDeadLetterWithResponse, c.DeleteDeadLetterWithResponse,
		c.RedriveDeadLettersWithResponse, c.RedriveDeadLetterWithResponse, c.ReplayToQueueWithResponse,
		c.ListTracesWithResponse, c.GetTraceWithResponse, c.GetMetricsWithResponse, c.StreamEventsWithResponse, c.ListOutboxesWithResponse,
		c.GetIdleWithResponse, c.DevSignInWithResponse,
	}
	if n := strings.Count(string(api.OpenAPI), "operationId:"); len(calls) != n {
		t.Fatalf("%d calls listed for the document's %d operations: list the new one", len(calls), n)
	}
}
