// Package function runs a service's functions on Lambda, built from its
// descriptor (wiring.Service) as the simulation and the stack read it: the
// API behind API Gateway's HTTP API (payload format 2.0), the consumer on
// its SQS queues.
package function

import (
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/eventshop/eventshop/cmd/lambda/internal/lambdaenv"
	"github.com/eventshop/eventshop/cmd/lambda/internal/lambdametrics"
	"github.com/eventshop/eventshop/internal/awsenv"
	"github.com/eventshop/eventshop/internal/idempotency"
	idemdynamo "github.com/eventshop/eventshop/internal/idempotency/dynamo"
	"github.com/eventshop/eventshop/internal/wiring"
)

// API serves svc's HTTP API.
func API(svc wiring.Service) {
	fn := svc.APIFunction()
	log, env, cfg := lambdaenv.Init(fn)
	d := wiring.NewDynamo(lambdaenv.DynamoDB(cfg), svc.API.Grants, func(v string) string { return env[v] }, log)
	if svc.API.Idempotent() {
		d.Guard = idempotency.NewGuard(idemdynamo.New(d.DB, env[awsenv.IdempotencyTable]), log)
	}
	h := lambdaenv.HTTP(log, svc.API.Build(d))
	lambdaenv.Start(httpadapter.NewV2(h).ProxyWithContext)
}

// Consumer runs svc's consumer, with its metrics.
func Consumer(svc wiring.Service) {
	fn := svc.ConsumerFunction()
	log, env, cfg := lambdaenv.Init(fn)
	lambdametrics.Install(fn, log)
	d := wiring.NewDynamo(lambdaenv.DynamoDB(cfg), svc.Consumer.Grants, func(v string) string { return env[v] }, log)
	lambdaenv.Start(svc.Consumer.Build(d).Handle)
}
