// Command inventory-api is the Lambda function behind the inventory's routes.
package main

import (
	"net/http"

	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/eventshop/eventshop/cmd/lambda/internal/lambdaenv"
	"github.com/eventshop/eventshop/internal/awsenv"
	"github.com/eventshop/eventshop/internal/inventory/app"
	"github.com/eventshop/eventshop/internal/inventory/dynamo"
	"github.com/eventshop/eventshop/internal/inventory/httpapi"
)

func main() {
	log, env, cfg := lambdaenv.Init(awsenv.InventoryAPI)
	// No reservations table: the API reads and sets stock, and its role may
	// not touch reservations, whose items carry the events the publisher sends.
	uc := app.New(dynamo.New(lambdaenv.DynamoDB(cfg), env[awsenv.InventoryTable], ""))
	h := lambdaenv.HTTP(log, func(mux *http.ServeMux) { httpapi.Register(mux, uc, log) })
	lambdaenv.Start(httpadapter.NewV2(h).ProxyWithContext)
}
