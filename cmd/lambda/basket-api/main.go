// Command basket-api is the basket service's HTTP API as a Lambda function
// behind an API Gateway HTTP API (payload format 2.0).
package main

import (
	"net/http"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/eventshop/eventshop/cmd/lambda/internal/lambdaenv"
	"github.com/eventshop/eventshop/internal/awsenv"
	"github.com/eventshop/eventshop/internal/basket/app"
	"github.com/eventshop/eventshop/internal/basket/dynamo"
	"github.com/eventshop/eventshop/internal/basket/httpapi"
)

func main() {
	log, env, cfg := lambdaenv.Init(awsenv.BasketAPI)
	store := dynamo.New(lambdaenv.DynamoDB(cfg), env[awsenv.BasketTable], env[awsenv.PriceTable])
	uc := app.New(store, store)
	h := lambdaenv.HTTP(log, func(mux *http.ServeMux) { httpapi.Register(mux, uc, log) })
	lambda.Start(httpadapter.NewV2(h).ProxyWithContext)
}
