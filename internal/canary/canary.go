// Package canary says how a new version of a Lambda function is told from a
// good one while CodeDeploy shifts traffic to it: the metric every function
// prints per version after each invocation (Tally, Line), and the alarms a
// deployment of each kind of function watches (Gates). The CDK stack builds
// its alarms and deployment groups from Gates, the Lambda runtime prints the
// lines, and the AWS simulation evaluates the same alarms on what each
// version did.
package canary

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/eventshop/eventshop/internal/awsenv"
)

// The shop's per-version metric, in its EMF namespace: what one version of
// a function handled (requests, messages or stream records) and how many of
// them failed, by function and version (the OpenTelemetry FaaS resource
// attributes' names).
const (
	Handled    = "eventshop.version.handled"
	Failed     = "eventshop.version.failed"
	FunctionID = "faas.name"
	VersionID  = "faas.version"
)

// Tally is what one invocation handled and how many of those items failed.
type Tally struct{ Handled, Failed int }

// Expected is an error a function answers by design, which is not a fault
// of its version: the sign-up trigger refusing a name, say. Lambda counts it
// among the function's Errors all the same.
type Expected interface{ Expected() bool }

// Of tallies an invocation from its event, its answer and its error: an SQS
// or stream batch handled its records and failed those it reported (all of
// them if the invocation failed); an API request failed if it was answered
// 5xx or not at all; anything else is one item, failed if the invocation
// returned an error that is not Expected.
func Of(in, out any, err error) Tally {
	switch in := in.(type) {
	case awsevents.SQSEvent:
		resp, _ := out.(awsevents.SQSEventResponse)
		return batch(len(in.Records), len(resp.BatchItemFailures), err)
	case awsevents.DynamoDBEvent:
		resp, _ := out.(awsevents.DynamoDBEventResponse)
		return batch(len(in.Records), len(resp.BatchItemFailures), err)
	case awsevents.APIGatewayV2HTTPRequest:
		resp, _ := out.(awsevents.APIGatewayV2HTTPResponse)
		if err != nil || resp.StatusCode >= http.StatusInternalServerError {
			return Tally{Handled: 1, Failed: 1}
		}
		return Tally{Handled: 1}
	}
	var expected Expected
	if err != nil && !(errors.As(err, &expected) && expected.Expected()) {
		return Tally{Handled: 1, Failed: 1}
	}
	return Tally{Handled: 1}
}

func batch(records, failed int, err error) Tally {
	if err != nil {
		return Tally{Handled: records, Failed: records}
	}
	return Tally{Handled: records, Failed: min(failed, records)}
}

// Line writes t as one EMF line under the shop's namespace: Handled and
// Failed at the dimensions FunctionID = function and VersionID = version.
// Both are written, a zero too, so that a ratio of them has data whenever
// the version ran.
func Line(w io.Writer, function, version string, t Tally, at time.Time) error {
	type metric struct{ Name, Unit string }
	b, err := json.Marshal(map[string]any{
		"_aws": map[string]any{
			"Timestamp": at.UnixMilli(),
			"CloudWatchMetrics": []map[string]any{{
				"Namespace":  awsenv.MetricsNamespace,
				"Dimensions": [][]string{{FunctionID, VersionID}},
				"Metrics":    []metric{{Handled, "Count"}, {Failed, "Count"}},
			}},
		},
		FunctionID: function,
		VersionID:  version,
		Handled:    t.Handled,
		Failed:     t.Failed,
	})
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// Kind is what a function does, which decides what says its new version is bad.
type Kind int

// The kinds of function.
const (
	API       Kind = iota + 1 // behind API Gateway: a request per invocation
	Consumer                  // reads SQS queues: a batch of messages per invocation
	Publisher                 // reads a DynamoDB stream: a batch of records per invocation
	Trigger                   // called by a service, answering by design with an error (the user pool's pre-sign-up)
	Task                      // invoked by an operator
)

func (k Kind) String() string {
	switch k {
	case API:
		return "API"
	case Consumer:
		return "consumer"
	case Publisher:
		return "publisher"
	case Trigger:
		return "trigger"
	case Task:
		return "task"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Function names one version of a function as CloudWatch's dimensions
// name it: the function's name, the alias callers invoke, and the version.
// The stack passes its tokens, the simulation its own names.
type Function struct{ Name, Alias, Version string }

// Metric is one CloudWatch metric at one dimension set, with the statistic
// an alarm takes of it.
type Metric struct {
	ID         string // its name in an alarm's expression
	Namespace  string
	Name       string
	Dimensions map[string]string
	Statistic  string // Sum: the only one the gates take
}

// Alarm is a CloudWatch alarm that fires when its value reaches Threshold
// in each of its last EvaluationPeriods periods; a period without data is
// as MissingData says.
type Alarm struct {
	ID          string // the construct id's suffix: "ErrorsAlarm"
	Description string
	Metrics     []Metric
	// Expression is metric math over the metrics' IDs, or "" when the alarm
	// watches its one metric. Value computes the same from the metrics' values.
	Expression        string
	Threshold         float64
	Period            time.Duration
	EvaluationPeriods int
	MissingData       string // CloudWatch's TreatMissingData
	// minHandled is, for a failure ratio, the fewest items Expression and
	// Value take a ratio of.
	minHandled float64
}

// NotBreaching is CloudWatch's TreatMissingData for "a period without data
// is no breach": a version that was not called is not bad.
const NotBreaching = "notBreaching"

// Period is the gates' period: CloudWatch's finest for AWS's metrics, and
// five of them fit in a canary's wait.
const Period = time.Minute

// What makes a version bad, by kind: a failed invocation of it (Lambda's
// Errors through the alias, on the version it ran), or a share of its items
// failed once it handled MinHandled in a minute. An API answering 5xx to
// APIFailureRatio of its requests is bad; a consumer or publisher fails
// some messages under contention and retries them, so only a version that
// fails most of them is.
const (
	APIFailureRatio   = 0.05
	BatchFailureRatio = 0.5
	MinHandled        = 3
)

// Gates are the alarms that stop a deployment of f, a function of kind k:
// each watches only what f's new version did, so an alarm about the
// system (a dead letter, a parked record) never blocks a deployment.
func Gates(k Kind, f Function) []Alarm {
	errs := Alarm{
		ID:          "ErrorsAlarm",
		Description: "The new version failed an invocation (an error, a crash, a timeout): its deployment rolls back",
		Metrics: []Metric{{ID: "errors", Namespace: "AWS/Lambda", Name: "Errors", Statistic: "Sum",
			Dimensions: map[string]string{"FunctionName": f.Name, "Resource": f.Name + ":" + f.Alias, "ExecutedVersion": f.Version}}},
		Threshold:         1,
		Period:            Period,
		EvaluationPeriods: 1,
		MissingData:       NotBreaching,
	}
	switch k {
	case API:
		return []Alarm{errs, failures(f, APIFailureRatio, "The new version answered 5xx to a share of its requests: its deployment rolls back")}
	case Consumer:
		return []Alarm{errs, failures(f, BatchFailureRatio, "The new version failed most of the messages it was given: its deployment rolls back")}
	case Publisher:
		return []Alarm{errs, failures(f, BatchFailureRatio, "The new version failed most of the stream records it was given: its deployment rolls back")}
	case Trigger:
		return []Alarm{failures(f, BatchFailureRatio, "The new version failed most of its calls: its deployment rolls back")}
	case Task:
		return []Alarm{errs}
	}
	panic(fmt.Sprintf("canary.Gates: no gates for %v", k))
}

func failures(f Function, ratio float64, description string) Alarm {
	dims := map[string]string{FunctionID: f.Name, VersionID: f.Version}
	return Alarm{
		ID:          "FailureRateAlarm",
		Description: description,
		Metrics: []Metric{
			{ID: "failed", Namespace: awsenv.MetricsNamespace, Name: Failed, Statistic: "Sum", Dimensions: dims},
			{ID: "handled", Namespace: awsenv.MetricsNamespace, Name: Handled, Statistic: "Sum", Dimensions: dims},
		},
		Expression:        fmt.Sprintf("IF(handled >= %d, failed / handled, 0)", MinHandled),
		Threshold:         ratio,
		Period:            Period,
		EvaluationPeriods: 1,
		MissingData:       NotBreaching,
		minHandled:        MinHandled,
	}
}

// Value is a's value in one period from its metrics' values there (by ID;
// a metric without data is absent): false if a has no data.
func (a Alarm) Value(values map[string]float64) (float64, bool) {
	if a.Expression == "" {
		v, ok := values[a.Metrics[0].ID]
		return v, ok
	}
	handled, ok := values["handled"]
	if !ok {
		return 0, false
	}
	if handled < a.minHandled {
		return 0, true
	}
	return values["failed"] / handled, true
}

// Breaches says whether a value reaches a's threshold.
func (a Alarm) Breaches(v float64) bool { return v >= a.Threshold }
