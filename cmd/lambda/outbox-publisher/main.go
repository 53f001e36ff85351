// Command outbox-publisher is the Lambda function on a table's DynamoDB
// stream that publishes the events each write carried to EventBridge, and
// parks in the parked-records table what EventBridge cannot take.
package main

import (
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"strings"

	"github.com/eventshop/eventshop/cmd/lambda/internal/lambdaenv"
	"github.com/eventshop/eventshop/cmd/lambda/internal/lambdametrics"
	"github.com/eventshop/eventshop/internal/awsenv"
	"github.com/eventshop/eventshop/internal/outbox/streams"
)

func main() {
	log, env, cfg := lambdaenv.Init(awsenv.OutboxPublisher)
	lambdametrics.Install(awsenv.OutboxPublisher, log)
	parking := streams.NewParkingTable(lambdaenv.DynamoDB(cfg), env[awsenv.ParkedTable])
	sources := strings.Split(env[awsenv.EventSources], ",")
	lambdaenv.Start(streams.NewPublisher(eventbridge.NewFromConfig(cfg), env[awsenv.EventBusName], sources, parking, log).Handle)
}
