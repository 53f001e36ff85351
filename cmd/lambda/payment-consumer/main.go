// Command payment-consumer is the Lambda function of the payment service: it
// pays for reserved stock and settles cancelled orders' payments. Its
// provider is the simulator (no money moves): a real provider's adapter
// implements payment.Provider and takes its place here.
package main

import (
	"github.com/eventshop/eventshop/cmd/lambda/internal/lambdaenv"
	"github.com/eventshop/eventshop/cmd/lambda/internal/lambdametrics"
	"github.com/eventshop/eventshop/internal/awsenv"
	"github.com/eventshop/eventshop/internal/payment/app"
	"github.com/eventshop/eventshop/internal/payment/consumer"
	"github.com/eventshop/eventshop/internal/payment/dynamo"
	"github.com/eventshop/eventshop/internal/payment/simulator"
)

func main() {
	log, env, cfg := lambdaenv.Init(awsenv.PaymentConsumer)
	lambdametrics.Install(awsenv.PaymentConsumer, log)
	store := dynamo.New(lambdaenv.DynamoDB(cfg), env[awsenv.PaymentTable])
	lambdaenv.Start(consumer.New(app.New(store, simulator.Simulator{}), log).Handle)
}
