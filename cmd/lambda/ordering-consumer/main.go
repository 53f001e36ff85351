// Command ordering-consumer creates orders from CheckoutBasket events,
// delivered by SQS.
package main

import (
	"github.com/eventshop/eventshop/cmd/lambda/internal/lambdaenv"
	"github.com/eventshop/eventshop/cmd/lambda/internal/lambdametrics"
	"github.com/eventshop/eventshop/internal/awsenv"
	"github.com/eventshop/eventshop/internal/ordering/app"
	"github.com/eventshop/eventshop/internal/ordering/consumer"
	"github.com/eventshop/eventshop/internal/ordering/dynamo"
)

func main() {
	log, env, cfg := lambdaenv.Init(awsenv.OrderingConsumer)
	lambdametrics.Install(awsenv.OrderingConsumer, log)
	lambdaenv.Start(consumer.New(app.New(dynamo.New(lambdaenv.DynamoDB(cfg), env[awsenv.OrderTable])), log).Handle)
}
