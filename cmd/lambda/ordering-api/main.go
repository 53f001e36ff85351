// Command ordering-api is the ordering service's HTTP API as a Lambda function
// behind an API Gateway HTTP API (payload format 2.0).
package main

import (
	"net/http"

	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/eventshop/eventshop/cmd/lambda/internal/lambdaenv"
	"github.com/eventshop/eventshop/internal/awsenv"
	"github.com/eventshop/eventshop/internal/ordering/app"
	"github.com/eventshop/eventshop/internal/ordering/dynamo"
	"github.com/eventshop/eventshop/internal/ordering/httpapi"
)

func main() {
	log, env, cfg := lambdaenv.Init(awsenv.OrderingAPI)
	uc := app.New(dynamo.New(lambdaenv.DynamoDB(cfg), env[awsenv.OrderTable]))
	h := lambdaenv.HTTP(log, func(mux *http.ServeMux) { httpapi.Register(mux, uc, log, nil) })
	lambdaenv.Start(httpadapter.NewV2(h).ProxyWithContext)
}
