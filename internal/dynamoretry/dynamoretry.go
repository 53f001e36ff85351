// Package dynamoretry configures the DynamoDB client every function and
// test uses: it waits out what DynamoDB says will pass if sent again, a
// transaction conflict among them, and tells its callers, as an outcome of
// kind Unavailable, what it could not wait out.
package dynamoretry

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/eventshop/eventshop/internal/kind"
)

// Conflict is DynamoDB's answer to a PutItem, UpdateItem or DeleteItem on
// an item an ongoing TransactWriteItems holds ("Transaction conflict
// handling in DynamoDB", developer guide:
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-conflict-handling).
// The SDK's standard retryer does not retry it (aws/retry: it retries
// TransactionInProgressException only), though it passes once the
// transaction ends, within milliseconds.
const Conflict = "TransactionConflictException"

// How long a call waits out conflicts and throttling: up to MaxAttempts
// attempts, the waits between them growing as the SDK's exponential
// backoff with full jitter does, to at most MaxBackoff each, and never
// past the caller's deadline (the SDK stops at its context's end).
const (
	MaxAttempts = 6
	MaxBackoff  = 500 * time.Millisecond
)

// busyCodes are DynamoDB's answers that say "not now": the call may pass if
// sent again shortly, and a caller that got one after every attempt should
// hear "retry shortly", not "failed".
var busyCodes = []string{Conflict, "TransactionInProgressException", "ProvisionedThroughputExceededException",
	"ThrottlingException", "RequestLimitExceeded"}

// Options configures a client as described: pass it to dynamodb.New or
// dynamodb.NewFromConfig.
func Options(o *dynamodb.Options) {
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = MaxAttempts
		so.MaxBackoff = MaxBackoff
		so.Retryables = append(slices.Clone(so.Retryables), retry.RetryableErrorCode{Codes: map[string]struct{}{Conflict: {}}})
		// No client-side retry quota: a burst of conflicts on a hot item
		// would otherwise spend it, and the calls after it fail at once.
		so.RateLimiter = ratelimit.None
	})
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		return stack.Initialize.Add(tellBusy, middleware.After)
	})
}

// tellBusy runs around the whole call, retries included: what is still a
// busy answer after them becomes a *Busy.
var tellBusy = middleware.InitializeMiddlewareFunc("eventshopTellBusy",
	func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		out, md, err := next.HandleInitialize(ctx, in)
		var api smithy.APIError
		if err != nil && errors.As(err, &api) && slices.Contains(busyCodes, api.ErrorCode()) {
			err = &Busy{err: err}
		}
		return out, md, err
	})

// Busy is a call DynamoDB kept answering "not now": an outcome of kind
// Unavailable (an API answers 503 with Retry-After; a consumer fails the
// message, which comes again). It wraps DynamoDB's last answer.
type Busy struct{ err error }

func (b *Busy) Error() string { return "the shop's data is busy; retry shortly" }

// Kind is kind.Unavailable.
func (b *Busy) Kind() kind.Kind { return kind.Unavailable }

func (b *Busy) Unwrap() error { return b.err }
