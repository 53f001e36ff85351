package awssim

import (
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/eventshop/eventshop/internal/dynamoretry"
	"github.com/eventshop/eventshop/internal/dynamotest"
)

// dynamoWire answers the functions' DynamoDB calls on the wire, under the
// client's retryer, as DynamoDB answers them when the plan says so; it
// sends the rest to dynalite. Deciding here rather than before the call
// lets the functions' own client (dynamoretry.Options) wait out what it
// would wait out on AWS:
//   - a single-item write (PutItem, UpdateItem, DeleteItem) that meets a
//     transaction in flight on its item gets TransactionConflictException
//     for 1 to MaxAttempts of its attempts: at MaxAttempts it reaches the
//     code (dynalite makes such a write wait instead, and the run has no
//     second invocation in flight: the conflict stands for one);
//   - a throttled call gets ProvisionedThroughputExceededException at each
//     of its attempts, as one does that reaches the code once the retries
//     are spent.
type dynamoWire struct {
	sim  *Sim
	base interface {
		Do(*http.Request) (*http.Response, error)
	}
	left map[string]wireFault // by the SDK's invocation id: one call's attempts
}

type wireFault struct {
	code     string
	attempts int // left to answer with code
}

// Do answers req or sends it on.
func (w *dynamoWire) Do(req *http.Request) (*http.Response, error) {
	s := w.sim
	ctx := req.Context()
	if invocationOf(ctx) == nil || ctx.Value(harnessCall{}) != nil {
		return w.base.Do(req)
	}
	op := req.Header.Get("X-Amz-Target")
	op = op[strings.LastIndexByte(op, '.')+1:]
	attempt := req.Header.Get("Amz-Sdk-Request")
	first := attempt == "attempt=1" || strings.HasPrefix(attempt, "attempt=1;")
	if !first {
		s.sched.park(ctx, "again "+op) // the others go on between attempts
	}
	if keys, _ := ctx.Value(writingKey{}).([]string); len(keys) > 0 {
		for _, k := range keys {
			if _, held := s.held[k]; held {
				s.count("TransactionConflictException from a transaction in flight")
				return dynamotest.ErrorAnswer(req, dynamoretry.Conflict, "injected by awssim"), nil
			}
		}
	}
	// A call's fault is decided at its first attempt and kept, by the SDK's
	// invocation id, for the attempts it spans.
	id := req.Header.Get("Amz-Sdk-Invocation-Id")
	if first {
		switch {
		case (op == "PutItem" || op == "UpdateItem" || op == "DeleteItem") && s.chance(s.plan.WriteConflict):
			f := wireFault{code: dynamoretry.Conflict, attempts: 1 + s.rand.IntN(dynamoretry.MaxAttempts)}
			if f.attempts == dynamoretry.MaxAttempts {
				s.count("TransactionConflictException to the end of a " + op)
			} else {
				s.count("TransactionConflictException waited out")
			}
			w.left[id] = f
		case s.chance(s.plan.Throttle):
			w.left[id] = wireFault{code: "ProvisionedThroughputExceededException", attempts: dynamoretry.MaxAttempts}
			s.count("ProvisionedThroughputExceeded")
		}
	}
	f, ok := w.left[id]
	if !ok {
		return w.base.Do(req)
	}
	if f.attempts--; f.attempts == 0 {
		delete(w.left, id)
	} else {
		w.left[id] = f
	}
	return dynamotest.ErrorAnswer(req, f.code, "injected by awssim"), nil
}

// harnessCall marks a context whose DynamoDB calls are the run's own
// (reading back what a function wrote), which no fault touches.
type harnessCall struct{}

// functionsClient is client as the functions use it, its calls answered
// through w; the retryer's waits are cut to a millisecond, as the run's
// clock does not wait for them.
func functionsClient(client *dynamodb.Client, w *dynamoWire) *dynamodb.Client {
	o := client.Options()
	if o.HTTPClient != nil {
		w.base = o.HTTPClient
	} else {
		w.base = http.DefaultClient
	}
	return dynamodb.New(o, func(o *dynamodb.Options) {
		o.HTTPClient = w
		if o.Retryer != nil {
			o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, time.Millisecond)
		}
	})
}
