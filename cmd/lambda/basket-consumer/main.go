// Command basket-consumer keeps the basket service's price view current from
// catalog events, delivered by SQS.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/eventshop/eventshop/cmd/lambda/internal/lambdaenv"
	"github.com/eventshop/eventshop/internal/basket/app"
	"github.com/eventshop/eventshop/internal/basket/consumer"
	"github.com/eventshop/eventshop/internal/basket/dynamo"
)

func main() {
	log := lambdaenv.Logger()
	env, err := lambdaenv.Require("PRICE_TABLE")
	lambdaenv.Must(log, err)
	cfg, err := lambdaenv.AWS(context.Background())
	lambdaenv.Must(log, err)
	view := dynamo.NewPriceView(lambdaenv.DynamoDB(cfg), env["PRICE_TABLE"])
	lambda.Start(consumer.New(app.NewPrices(view), log))
}
