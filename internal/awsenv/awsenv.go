// Package awsenv names what the Lambda functions and the CDK stack must agree
// on: the environment variables the shop's own functions require and the
// stack sets, and those functions. The services' functions and tables are
// their descriptors' (package wiring); both sides read these names, so they
// cannot drift apart.
package awsenv

// Environment variables of the shop's own tables and bus.
const (
	EventBusName = "EVENT_BUS_NAME"
	// ParkedTable keeps the stream records the outbox publisher set aside.
	ParkedTable = "PARKED_TABLE"
	// IdempotencyTable keeps the responses of requests sent with an Idempotency-Key.
	IdempotencyTable = "IDEMPOTENCY_TABLE"
	// EventSources lists, comma-separated, the event sources a publisher
	// may send: its table's service's (events.SourcesOf).
	EventSources = "EVENT_SOURCES"
)

// MetricsNamespace is the CloudWatch namespace of the functions' EMF
// metrics, which the stack's dashboards chart.
const MetricsNamespace = "EventShop"

// Function is a Lambda function: the directory of its main under
// cmd/lambda (built by make lambdas), the service it reports as (its
// service.name in telemetry), and the environment variables its main
// requires, which the stack sets, exactly.
type Function struct {
	Name    string
	Service string
	Env     []string
}

// The functions that belong to no one service: the outbox publishers serve
// every service ("outbox"), the sign-up trigger the user pool ("identity").
var (
	OutboxPublisher  = Function{Name: "outbox-publisher", Service: "outbox", Env: []string{EventBusName, ParkedTable, EventSources}}
	OutboxRepublish  = Function{Name: "outbox-republish", Service: "outbox", Env: []string{EventBusName, ParkedTable, EventSources}}
	CognitoPreSignUp = Function{Name: "cognito-pre-signup", Service: "identity"}
)

// Shared lists the functions that belong to no one service.
func Shared() []Function { return []Function{OutboxPublisher, OutboxRepublish, CognitoPreSignUp} }
