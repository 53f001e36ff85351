// Command inventory-consumer is the Lambda function that keeps the
// inventory's list of products current from the catalog's events, and
// reserves, releases and sells orders' stock.
package main

import (
	"github.com/eventshop/eventshop/cmd/lambda/internal/lambdaenv"
	"github.com/eventshop/eventshop/cmd/lambda/internal/lambdametrics"
	"github.com/eventshop/eventshop/internal/awsenv"
	"github.com/eventshop/eventshop/internal/inventory/app"
	"github.com/eventshop/eventshop/internal/inventory/consumer"
	"github.com/eventshop/eventshop/internal/inventory/dynamo"
)

func main() {
	log, env, cfg := lambdaenv.Init(awsenv.InventoryConsumer)
	lambdametrics.Install(awsenv.InventoryConsumer, log)
	lambdaenv.Start(consumer.New(app.New(dynamo.New(lambdaenv.DynamoDB(cfg), env[awsenv.InventoryTable], env[awsenv.ReservationTable])), log).Handle)
}
