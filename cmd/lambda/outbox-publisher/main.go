// Command outbox-publisher sends the events that ride on a table's items to
// the event bus, fed by the table's DynamoDB stream. The stack runs one
// function from it per table with an outbox (catalog, basket).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/eventshop/eventshop/cmd/lambda/internal/lambdaenv"
	"github.com/eventshop/eventshop/internal/awsenv"
	"github.com/eventshop/eventshop/internal/outbox/streams"
)

func main() {
	log, env, cfg := lambdaenv.Init(awsenv.OutboxPublisher)
	lambda.Start(streams.NewPublisher(eventbridge.NewFromConfig(cfg), env[awsenv.EventBusName], log).Handle)
}
