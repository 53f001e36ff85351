// Command catalog-api is the catalog's HTTP API as a Lambda function behind an
// API Gateway HTTP API (payload format 2.0).
package main

import (
	"net/http"

	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/eventshop/eventshop/cmd/lambda/internal/lambdaenv"
	"github.com/eventshop/eventshop/internal/awsenv"
	"github.com/eventshop/eventshop/internal/catalog/app"
	"github.com/eventshop/eventshop/internal/catalog/dynamo"
	"github.com/eventshop/eventshop/internal/catalog/httpapi"
	"github.com/eventshop/eventshop/internal/idempotency"
	idemdynamo "github.com/eventshop/eventshop/internal/idempotency/dynamo"
)

func main() {
	log, env, cfg := lambdaenv.Init(awsenv.CatalogAPI)
	db := lambdaenv.DynamoDB(cfg)
	uc := app.New(dynamo.New(db, env[awsenv.CatalogTable]))
	guard := idempotency.NewGuard(idemdynamo.New(db, env[awsenv.IdempotencyTable]), log)
	h := lambdaenv.HTTP(log, func(mux *http.ServeMux) { httpapi.Register(mux, uc, log, guard) })
	lambdaenv.Start(httpadapter.NewV2(h).ProxyWithContext)
}
