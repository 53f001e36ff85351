// Command dynamo is a Go Lambda function that, at init, loads the AWS
// configuration and builds a DynamoDB client, as the shop's functions do:
// the floor make loadtest holds their init to.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	lambda.Start(func(context.Context, map[string]any) (string, error) {
		_ = db
		return "ok", nil
	})
}
