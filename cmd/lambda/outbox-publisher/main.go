// Command outbox-publisher sends the events that ride on a table's items to
// the event bus, fed by the table's DynamoDB stream. The stack runs one
// function from it per table with an outbox (catalog, basket).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/eventshop/eventshop/cmd/lambda/internal/lambdaenv"
	"github.com/eventshop/eventshop/internal/outbox/streams"
)

func main() {
	log := lambdaenv.Logger()
	env, err := lambdaenv.Require("EVENT_BUS_NAME")
	lambdaenv.Must(log, err)
	cfg, err := lambdaenv.AWS(context.Background())
	lambdaenv.Must(log, err)
	lambda.Start(streams.NewPublisher(eventbridge.NewFromConfig(cfg), env["EVENT_BUS_NAME"], log).Handle)
}
