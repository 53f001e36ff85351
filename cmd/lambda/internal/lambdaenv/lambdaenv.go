// Package lambdaenv is what every Lambda function's main shares: configuration
// from environment variables, validated at init, a JSON logger, AWS clients
// built once, and the HTTP stack API functions wrap with the API proxy.
package lambdaenv

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/eventshop/eventshop/internal/apigw"
	"github.com/eventshop/eventshop/internal/awsenv"
	"github.com/eventshop/eventshop/internal/correlation"
	"github.com/eventshop/eventshop/internal/dynamoretry"
)

// Require reads the named environment variables; it fails naming every one
// that is missing or empty.
func Require(names ...string) (map[string]string, error) {
	vals := make(map[string]string, len(names))
	var missing []string
	for _, n := range names {
		v := os.Getenv(n)
		if v == "" {
			missing = append(missing, n)
		}
		vals[n] = v
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing environment variable(s): %s", strings.Join(missing, ", "))
	}
	return vals, nil
}

// Logger returns the function's JSON logger; Lambda's JSON log format keeps
// its fields.
func Logger() *slog.Logger {
	return slog.New(correlation.LogHandler{Handler: slog.NewJSONHandler(os.Stdout, nil)})
}

// DynamoDB builds the DynamoDB client: one that waits out transaction
// conflicts and throttling, and says "busy" of what it could not
// (dynamoretry).
func DynamoDB(cfg aws.Config) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, dynamoretry.Options)
}

// HTTP builds the handler an API function serves (apigw.Handler).
func HTTP(log *slog.Logger, register func(*http.ServeMux)) http.Handler {
	return apigw.Handler(log, register)
}

// Init is what every main does first: its logger, its telemetry (observe),
// the environment variables fn requires (all of them) and the AWS
// configuration. A failure stops the init, naming what is missing.
func Init(fn awsenv.Function) (*slog.Logger, map[string]string, aws.Config) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(GCPercent)
	}
	log := Logger().With("service", fn.Service)
	env, err := Require(fn.Env...)
	Must(log, err)
	Must(log, observe(context.Background(), fn, log))
	cfg, err := AWS()
	Must(log, err)
	return log, env, cfg
}

// GCPercent is the functions' GOGC unless the environment sets one. A
// function's live heap is small beside its sandbox's memory, so letting the
// heap grow further between collections costs nothing that matters and
// saves collections, the one each init ran among them (docs/performance.md).
const GCPercent = 400

// Must stops the function's init with err, which Lambda reports as an init error.
func Must(log *slog.Logger, err error) {
	if err != nil {
		log.Error("init failed", "err", err)
		os.Exit(1)
	}
}
