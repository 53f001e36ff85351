// Command ordering-consumer creates orders from CheckoutBasket events,
// delivered by SQS.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/eventshop/eventshop/cmd/lambda/internal/lambdaenv"
	"github.com/eventshop/eventshop/internal/ordering/app"
	"github.com/eventshop/eventshop/internal/ordering/consumer"
	"github.com/eventshop/eventshop/internal/ordering/dynamo"
)

func main() {
	log := lambdaenv.Logger()
	env, err := lambdaenv.Require("ORDER_TABLE")
	lambdaenv.Must(log, err)
	cfg, err := lambdaenv.AWS(context.Background())
	lambdaenv.Must(log, err)
	lambda.Start(consumer.New(app.New(dynamo.New(lambdaenv.DynamoDB(cfg), env["ORDER_TABLE"])), log))
}
