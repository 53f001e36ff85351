//go:build !otlp

package lambdaenv

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/eventshop/eventshop/internal/awsenv"
)

// ErrNoOTLP stops the init of a function given an OTLP endpoint that it
// cannot export to, rather than drop its spans unsaid.
var ErrNoOTLP = errors.New("an OTLP endpoint is set, but this binary was built without the otlp tag: build the functions with make lambdas OTLP_ENDPOINT=<url>")

func exportSpans(context.Context, awsenv.Function) (func(context.Context) error, error) {
	return nil, ErrNoOTLP
}

// instrumentAWS does nothing: without an exporter no span is recorded.
func instrumentAWS(*aws.Config) {}
