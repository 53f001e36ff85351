// Command plain is the smallest Go Lambda function: the floor of a
// function's init under the emulator, for make loadtest.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, map[string]any) (string, error) { return "ok", nil })
}
