// Command outbox-republish is the Lambda function an operator invokes, with
// any event, to send the events of the parked stream records to EventBridge
// again once the cause is fixed; each record it republishes leaves the
// parked-records table. It answers how many it republished and left.
package main

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/eventshop/eventshop/cmd/lambda/internal/lambdaenv"
	"github.com/eventshop/eventshop/cmd/lambda/internal/lambdametrics"
	"github.com/eventshop/eventshop/internal/awsenv"
	"github.com/eventshop/eventshop/internal/outbox/streams"
)

// Result is the function's answer.
type Result struct {
	Republished int `json:"republished"`
	Left        int `json:"left"`
}

func main() {
	log, env, cfg := lambdaenv.Init(awsenv.OutboxRepublish)
	lambdametrics.Install(awsenv.OutboxRepublish, log)
	parking := streams.NewParkingTable(lambdaenv.DynamoDB(cfg), env[awsenv.ParkedTable])
	pub := streams.NewPublisher(eventbridge.NewFromConfig(cfg), env[awsenv.EventBusName], strings.Split(env[awsenv.EventSources], ","), parking, log)
	lambdaenv.Start(func(ctx context.Context, _ any) (Result, error) {
		n, left, err := streams.Republish(ctx, parking, pub)
		return Result{Republished: n, Left: left}, err
	})
}
