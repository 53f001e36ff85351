// Command basket-consumer keeps the basket service's price view current from
// catalog events, delivered by SQS.
package main

import (
	"github.com/eventshop/eventshop/cmd/lambda/internal/lambdaenv"
	"github.com/eventshop/eventshop/cmd/lambda/internal/lambdametrics"
	"github.com/eventshop/eventshop/internal/awsenv"
	"github.com/eventshop/eventshop/internal/basket/app"
	"github.com/eventshop/eventshop/internal/basket/consumer"
	"github.com/eventshop/eventshop/internal/basket/dynamo"
)

func main() {
	log, env, cfg := lambdaenv.Init(awsenv.BasketConsumer)
	lambdametrics.Install(awsenv.BasketConsumer, log)
	view := dynamo.NewPriceView(lambdaenv.DynamoDB(cfg), env[awsenv.PriceTable])
	lambdaenv.Start(consumer.New(app.NewPrices(view), log).Handle)
}
