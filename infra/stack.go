package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/eventshop/eventshop/internal/auth"
	"github.com/eventshop/eventshop/internal/awsenv"
	"github.com/eventshop/eventshop/internal/canary"
	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/outbox/outboxitem"
	"github.com/eventshop/eventshop/internal/outbox/streams"
	"github.com/eventshop/eventshop/internal/rest"
	"github.com/eventshop/eventshop/internal/services"
	"github.com/eventshop/eventshop/internal/wiring"
)

// Functions are the directories under the asset directory, one per Lambda
// binary that make lambdas builds.
var Functions = services.FunctionNames()

// Settings every function shares.
const (
	apiTimeout       = 10 * time.Second
	publisherTimeout = time.Minute // room for backoff in seconds before the stream retries
	republishTimeout = 15 * time.Minute
	memoryMB         = 256
	consumerMaxConc  = 5 // at most this many concurrent consumer invocations per queue
	// iteratorAgeAlarm is how far a stream publisher may fall behind before
	// an alarm says so: far inside the stream's 24-hour retention.
	iteratorAgeAlarm = time.Hour
	// ruleRetries and ruleMaxEventAge bound EventBridge's delivery to a
	// target queue before the event goes to the rule's dead-letter queue.
	ruleRetries     = 185
	ruleMaxEventAge = 24 * time.Hour
	// The API stage's throttle: a steady rate and a burst, in requests per
	// second for the whole API, above which API Gateway answers 429.
	apiRateLimit  = 100
	apiBurstLimit = 200
	// Reserved concurrency: the most instances of each kind of function that
	// may run at once (it is also taken from the account's pool for them). A
	// consumer reserves consumerMaxConc per queue it reads: AWS asks that a
	// function's reserved concurrency be at least the sum of its SQS event
	// sources' maximum concurrency, or the event sources' receives are
	// throttled, and a throttled receive counts towards a message's
	// maxReceives (dead-lettering good messages).
	apiConcurrency       = 20
	publisherConcurrency = 2 // one per shard at a time; a spare for resharding
	singleConcurrency    = 1
	triggerConcurrency   = 5
)

// ShopStackProps configure the stack.
type ShopStackProps struct {
	awscdk.StackProps
	// AssetDir holds one directory per function with its bootstrap binary.
	AssetDir string
	// WebDir holds the storefront's pages; default ../web/static.
	WebDir string
	// SelfSignUp lets anyone create an account in the user pool. Off by
	// default: an administrator creates the users.
	SelfSignUp bool
	// OTLPEndpoint, when set, is where every function sends its spans, over
	// OTLP/HTTP; the binaries must then be built with the otlp tag (make
	// lambdas OTLP_ENDPOINT=...). Empty, the default: no span leaves a function.
	OTLPEndpoint string
	// OTLPLayerARN, when set, is a Lambda layer added to every function: the
	// ADOT collector's, say, with OTLPEndpoint http://localhost:4318.
	OTLPLayerARN string
	// Deployment is how a new version of the functions takes the traffic:
	// Canary (the default) or AllAtOnce, for a development stage. Either
	// rolls back when one of the function's alarms fires.
	Deployment Deployment
	// ArchiveDays is how long the bus's archive keeps every event, for
	// replay; 0 means DefaultArchiveDays (EventBridge's own 0, for ever, is
	// not offered: an archive is billed per GB stored).
	ArchiveDays int
}

// DefaultArchiveDays is how long the archive keeps events unless told.
const DefaultArchiveDays = 30

// NewShopStack defines eventshop on AWS: the HTTP API behind a Cognito JWT
// authorizer, one Lambda function per service role, the tables, the event bus
// with the rules of package events, the queues, the stream publishers and the
// alarms.
func NewShopStack(scope constructs.Construct, id string, props *ShopStackProps) awscdk.Stack {
	if err := eventbus.ValidateRules(eventbus.Rules()); err != nil {
		panic(err)
	}
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	s := &shop{stack: stack, assets: props.AssetDir, logs: map[string]awslogs.LogGroup{}, otlp: props.OTLPEndpoint,
		alarms: map[string][]awscloudwatch.Alarm{}, widgets: map[string][]awscloudwatch.IWidget{}}
	s.operators = awssns.NewTopic(stack, jsii.String("OperatorAlarms"), &awssns.TopicProps{EnforceSSL: jsii.Bool(true)})
	suppress(s.operators, "AwsSolutions-SNS2", "CloudWatch alarms publish to it, which a topic encrypted with AWS's managed SNS key refuses; it carries alarm states, no customer data")
	awscdk.NewCfnOutput(stack, jsii.String("OperatorAlarmsTopic"), &awscdk.CfnOutputProps{
		Value:       s.operators.TopicArn(),
		Description: jsii.String("Subscribe the operators to it: every alarm about the shop (dead letters, parked records, routes) notifies it"),
	})
	if props.OTLPLayerARN != "" {
		s.layers = []awslambda.ILayerVersion{awslambda.LayerVersion_FromLayerVersionArn(stack, jsii.String("OTLPLayer"), jsii.String(props.OTLPLayerARN))}
	}

	// Every table: the services' (services.Tables), each outbox table with
	// a stream its service's publisher reads.
	tables := map[string]awsdynamodb.Table{}
	for _, t := range services.Tables() {
		var stream awsdynamodb.StreamViewType
		if t.Outbox {
			stream = awsdynamodb.StreamViewType_NEW_IMAGE
		}
		tables[t.Env] = s.table(t.ID, t.Input(t.Name), stream, t.TTL)
	}
	parked := tables[awsenv.ParkedTable]
	bus := awsevents.NewEventBus(stack, jsii.String("SwnEventBus"), &awsevents.EventBusProps{EventBusName: jsii.String(events.BusName)})
	s.schemaRegistry()
	// What the functions' environments are set from: every table's name,
	// by its variable, and the bus's.
	vars := map[string]*string{awsenv.EventBusName: bus.EventBusName()}
	for env, t := range tables {
		vars[env] = t.TableName()
	}
	archiveDays := props.ArchiveDays
	if archiveDays == 0 {
		archiveDays = DefaultArchiveDays
	}
	if archiveDays < 0 {
		panic(fmt.Sprintf("ArchiveDays %d: must be 1 or more (0 for %d)", archiveDays, DefaultArchiveDays))
	}
	archive := bus.Archive(jsii.String("SwnEventArchive"), &awsevents.BaseArchiveProps{
		Description:  jsii.String("Every event on the bus, for replay"),
		EventPattern: &awsevents.EventPattern{Account: &[]*string{stack.Account()}},
		Retention:    awscdk.Duration_Days(jsii.Number(float64(archiveDays))),
	})
	awscdk.NewCfnOutput(stack, jsii.String("EventArchiveArn"), &awscdk.CfnOutputProps{
		Value:       archive.ArchiveArn(),
		Description: jsii.String("The bus's archive: replay from it with aws events start-replay (see README: Events)"),
	})

	// Each service's functions, which may call on each table the actions
	// its descriptor grants (the actions its adapters call), and nothing
	// else. A consumer reads every queue its rules fill, with
	// consumerMaxConc reserved per queue.
	queues := map[string]int{}
	for _, r := range eventbus.Rules() {
		queues[r.Consumer]++
	}
	apis := map[string]*lambdaFn{}
	consumers := map[string]*lambdaFn{}
	for _, svc := range services.All {
		if svc.API != nil {
			fn := s.function(svc.Title()+"ApiFunction", svc.APIFunction(), canary.API, apiTimeout, apiConcurrency, vars)
			s.grant(fn, svc.API.Grants, tables)
			if svc.API.Idempotent() {
				grant(fn, tables[awsenv.IdempotencyTable], idempotencyActions...)
			}
			apis[svc.Name] = fn
		}
		if svc.Consumer != nil {
			fn := s.function(svc.Title()+"ConsumerFunction", svc.ConsumerFunction(), canary.Consumer, consumerTimeout(svc.Name), consumerMaxConc*queues[svc.Name], vars)
			s.grant(fn, svc.Consumer.Grants, tables)
			consumers[svc.Name] = fn
		}
		for _, t := range svc.Tables {
			if t.Outbox {
				s.publisher(svc.Title()+"PublisherFunction", svc.Name, tables[t.Env], bus, parked, vars)
			}
		}
	}
	if err := services.Validate(); err != nil {
		panic(err)
	}
	for _, r := range eventbus.Rules() {
		s.route(bus, r, consumers[r.Consumer])
	}

	// The republish sends what any publisher parked, each record only from
	// the sources of the publisher that parked it (streams.Republish).
	republish := s.function("OutboxRepublishFunction", awsenv.OutboxRepublish, canary.Task, republishTimeout, singleConcurrency,
		with(vars, awsenv.EventSources, strings.Join(events.SourcesOf(), ",")))
	grantPutEvents(republish, bus, events.SourcesOf())
	grant(republish, parked, "Scan", "DeleteItem", "PutItem") // a record that fails again is parked again
	awscdk.NewCfnOutput(stack, jsii.String("RepublishFunctionName"), &awscdk.CfnOutputProps{
		Value:       republish.live.FunctionArn(),
		Description: jsii.String("Invoke it (its live alias) to publish the parked stream records again (see docs/operations.md)"),
	})

	users, client := s.identity(props.SelfSignUp)
	webDir := props.WebDir
	if webDir == "" {
		webDir = filepath.Join("..", "web", "static")
	}
	// No CORS: the storefront's pages reach the API through their own
	// distribution, under /api/.
	api := awsapigatewayv2.NewHttpApi(stack, jsii.String("ShopApi"), &awsapigatewayv2.HttpApiProps{ApiName: jsii.String("eventshop")})
	s.guardStage(api)
	shopfront := s.storefront(users, webDir, api)
	authorizer := awsapigatewayv2authorizers.NewHttpUserPoolAuthorizer(jsii.String("CognitoAuthorizer"), users, &awsapigatewayv2authorizers.HttpUserPoolAuthorizerProps{
		UserPoolClients: &[]awscognito.IUserPoolClient{client, shopfront.client},
	})
	for _, svc := range services.All {
		if svc.API != nil {
			s.routes(api, authorizer, svc.Title(), svc.API.Routes, apis[svc.Name])
		}
	}
	awscdk.NewCfnOutput(stack, jsii.String("ApiUrl"), &awscdk.CfnOutputProps{Value: api.Url(), Description: jsii.String("Base URL of the shop's HTTP API")})
	awscdk.NewCfnOutput(stack, jsii.String("UserPoolId"), &awscdk.CfnOutputProps{Value: users.UserPoolId()})
	awscdk.NewCfnOutput(stack, jsii.String("UserPoolClientId"), &awscdk.CfnOutputProps{Value: client.UserPoolClientId()})
	shopfront.deploy(s)
	s.deploy(props.Deployment)
	s.dashboards()
	return stack
}

type shop struct {
	stack  awscdk.Stack
	assets string
	logs   map[string]awslogs.LogGroup // each function's log group, by construct id
	otlp   string                      // the OTLP endpoint the functions send spans to, if any
	layers []awslambda.ILayerVersion   // added to every function
	fns    []*lambdaFn                 // every function, for its deployment group
	// operators is the topic the alarms about the shop notify.
	operators awssns.Topic
	alarms    map[string][]awscloudwatch.Alarm
	widgets   map[string][]awscloudwatch.IWidget // each service's dashboard
}

func (s *shop) layersOrNil() *[]awslambda.ILayerVersion {
	if len(s.layers) == 0 {
		return nil
	}
	return &s.layers
}

// OTLPEndpointVariable names the OTLP endpoint for the OpenTelemetry SDK.
const OTLPEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT"

// table declares a table with the key schema and indexes the adapter's own
// CreateTableInput describes, so the two cannot drift apart.
func (s *shop) table(id string, in *dynamodb.CreateTableInput, stream awsdynamodb.StreamViewType, ttl string) awsdynamodb.Table {
	cdkType := map[ddbtypes.ScalarAttributeType]awsdynamodb.AttributeType{
		ddbtypes.ScalarAttributeTypeS: awsdynamodb.AttributeType_STRING,
		ddbtypes.ScalarAttributeTypeN: awsdynamodb.AttributeType_NUMBER,
		ddbtypes.ScalarAttributeTypeB: awsdynamodb.AttributeType_BINARY,
	}
	types := map[string]awsdynamodb.AttributeType{}
	for _, d := range in.AttributeDefinitions {
		types[*d.AttributeName] = cdkType[d.AttributeType]
	}
	attr := func(name *string) *awsdynamodb.Attribute {
		return &awsdynamodb.Attribute{Name: name, Type: types[*name]}
	}
	props := &awsdynamodb.TableProps{
		BillingMode:                      awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: jsii.Bool(true)},
		RemovalPolicy:                    awscdk.RemovalPolicy_RETAIN,
	}
	for _, k := range in.KeySchema {
		if k.KeyType == ddbtypes.KeyTypeHash {
			props.PartitionKey = attr(k.AttributeName)
		} else {
			props.SortKey = attr(k.AttributeName)
		}
	}
	if stream != "" {
		props.Stream = stream
	}
	if ttl != "" {
		props.TimeToLiveAttribute = jsii.String(ttl)
	}
	t := awsdynamodb.NewTable(s.stack, jsii.String(id), props)
	for _, g := range in.GlobalSecondaryIndexes {
		gsi := &awsdynamodb.GlobalSecondaryIndexProps{IndexName: g.IndexName, ProjectionType: awsdynamodb.ProjectionType(g.Projection.ProjectionType)}
		for _, k := range g.KeySchema {
			if k.KeyType == ddbtypes.KeyTypeHash {
				gsi.PartitionKey = attr(k.AttributeName)
			} else {
				gsi.SortKey = attr(k.AttributeName)
			}
		}
		t.AddGlobalSecondaryIndex(gsi)
	}
	return t
}

// function declares a Lambda function running fn's binary, with the
// environment its main requires (fn.Env), each variable's value taken from
// vars: a variable vars lacks fails the synth. The OTLP endpoint is added,
// if there is one.
func (s *shop) function(id string, fn awsenv.Function, kind canary.Kind, timeout time.Duration, concurrency int, vars map[string]*string) *lambdaFn {
	env := map[string]*string{}
	for _, k := range fn.Env {
		v, ok := vars[k]
		if !ok {
			panic(fmt.Sprintf("function %s requires %s, which the stack does not set", fn.Name, k))
		}
		env[k] = v
	}
	if s.otlp != "" {
		env[OTLPEndpointVariable] = jsii.String(s.otlp)
	}
	logs := awslogs.NewLogGroup(s.stack, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_MONTH,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	s.logs[id] = logs
	// A role of its own, which may write to the function's log group and
	// nowhere else (the managed basic execution role grants every log group).
	role := awsiam.NewRole(s.stack, jsii.String(id+"Role"), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil)})
	logs.GrantWrite(role)
	f := awslambda.NewFunction(s.stack, jsii.String(id), &awslambda.FunctionProps{
		Role:          role,
		Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:  awslambda.Architecture_ARM_64(),
		Handler:       jsii.String("bootstrap"),
		Code:          awslambda.Code_FromAsset(jsii.String(filepath.Join(s.assets, fn.Name)), nil),
		MemorySize:    jsii.Number(memoryMB),
		Timeout:       awscdk.Duration_Seconds(jsii.Number(timeout.Seconds())),
		LoggingFormat: awslambda.LoggingFormat_JSON,
		LogGroup:      logs,
		Environment:   &env,
		Layers:        s.layersOrNil(),
		// The most instances that may run at once: a runaway caller or a
		// flood of events cannot take the account's whole concurrency.
		ReservedConcurrentExecutions: jsii.Number(concurrency),
	})
	return s.live(id, kind, f)
}

// with is vars and name = value.
func with(vars map[string]*string, name, value string) map[string]*string {
	out := maps.Clone(vars)
	out[name] = jsii.String(value)
	return out
}

// consumerTimeout is the timeout of service's consumer function: its
// rules' ConsumerTimeout, which all of them must agree on, as each rule's
// queue's visibility timeout is made from it.
func consumerTimeout(service string) time.Duration {
	var timeout time.Duration
	for _, r := range eventbus.Rules() {
		if r.Consumer != service {
			continue
		}
		if timeout != 0 && r.ConsumerTimeout != timeout {
			panic(fmt.Sprintf("the rules read by %s disagree on its timeout: %v and %v", service, timeout, r.ConsumerTimeout))
		}
		timeout = r.ConsumerTimeout
	}
	return timeout
}

// grant lets fn call what grants give it on tables (by variable), indexes
// included.
func (s *shop) grant(fn *lambdaFn, grants []wiring.Grant, tables map[string]awsdynamodb.Table) {
	for _, g := range grants {
		table := tables[g.Table]
		grant(fn, table, g.Actions...)
		if len(g.Indexes) > 0 {
			grantIndexes(fn, table, g.Indexes...)
			suppress(fn.Role(), "AwsSolutions-IAM5", "It queries the table's secondary indexes, which IAM names as the table's ARN + /index/*",
				"Resource::<"+*s.stack.GetLogicalId(table.Node().DefaultChild().(awsdynamodb.CfnTable))+".Arn>/index/*")
		}
	}
}

// idempotencyActions are what the idempotency store calls on its table.
var idempotencyActions = []string{"GetItem", "PutItem", "UpdateItem", "DeleteItem"}

// grant lets fn call DynamoDB's actions (named without the dynamodb: prefix)
// on table.
func grant(fn awslambda.Function, table awsdynamodb.Table, actions ...string) {
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: dynamoActions(actions), Resources: &[]*string{table.TableArn()},
	}))
}

// grantIndexes lets fn call actions on table's secondary indexes.
func grantIndexes(fn awslambda.Function, table awsdynamodb.Table, actions ...string) {
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: dynamoActions(actions), Resources: &[]*string{jsii.String(*table.TableArn() + "/index/*")},
	}))
}

func dynamoActions(actions []string) *[]*string {
	out := make([]*string, len(actions))
	for i, a := range actions {
		out[i] = jsii.String("dynamodb:" + a)
	}
	return &out
}

// route sends the events rule r matches to its queue, with a dead-letter
// queue after r.MaxReceives receives, and has consumer read the queue. The
// rule's target has a dead-letter queue of its own, for what EventBridge
// cannot deliver to the queue within ruleRetries tries and ruleMaxEventAge.
func (s *shop) route(bus awsevents.EventBus, r eventbus.Rule, consumer *lambdaFn) {
	name := pascal(r.Queue)
	undelivered := awssqs.NewQueue(s.stack, jsii.String(name+"UndeliveredQueue"), &awssqs.QueueProps{
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		EnforceSSL:      jsii.Bool(true),
	})
	s.alarm(r.Consumer, name+"UndeliveredAlarm", undelivered)
	suppress(undelivered, "AwsSolutions-SQS3", "This queue is itself a dead-letter queue, of the EventBridge rule's target; cdk-nag recognises only SQS redrive policies")
	dlq := awssqs.NewQueue(s.stack, jsii.String(name+"DeadLetterQueue"), &awssqs.QueueProps{
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		EnforceSSL:      jsii.Bool(true),
	})
	s.alarm(r.Consumer, name+"DeadLetterAlarm", dlq)
	q := awssqs.NewQueue(s.stack, jsii.String(name+"Queue"), &awssqs.QueueProps{
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(r.VisibilityTimeout().Seconds())),
		DeadLetterQueue:   &awssqs.DeadLetterQueue{MaxReceiveCount: jsii.Number(float64(r.MaxReceives)), Queue: dlq},
		EnforceSSL:        jsii.Bool(true),
	})
	rule := awsevents.NewRule(s.stack, jsii.String(r.Name), &awsevents.RuleProps{
		EventBus: bus,
		RuleName: jsii.String(r.Name), // the name a replay's FilterArns names (README: Events)
		// The L2 construct types only a few pattern fields; the rule's real
		// pattern, content filters and all, is set below from its JSON.
		EventPattern: &awsevents.EventPattern{Source: jsii.Strings("placeholder")},
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewSqsQueue(q, &awseventstargets.SqsQueueProps{
			DeadLetterQueue: undelivered,
			RetryAttempts:   jsii.Number(ruleRetries),
			MaxEventAge:     awscdk.Duration_Hours(jsii.Number(ruleMaxEventAge.Hours())),
		})},
	})
	var pattern map[string]any
	if err := json.Unmarshal([]byte(r.Pattern.JSON()), &pattern); err != nil {
		panic(fmt.Sprintf("rule %s: %v", r.Name, err))
	}
	rule.Node().DefaultChild().(awsevents.CfnRule).SetEventPattern(pattern)
	s.show(r.Consumer, awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
		Title: jsii.String(r.Queue + ": age of the oldest message (s)"),
		Left:  &[]awscloudwatch.IMetric{q.MetricApproximateAgeOfOldestMessage(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum")})},
	}), awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
		Title: jsii.String(r.Queue + ": processed and failed"),
		Left: &[]awscloudwatch.IMetric{
			q.MetricNumberOfMessagesDeleted(&awscloudwatch.MetricOptions{Label: jsii.String("processed"), Statistic: jsii.String("Sum")}),
			emfQueueMetric("eventshop.messages.failed", r.Queue, "failed"),
		},
	}), awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
		Title: jsii.String(r.Queue + ": dead letters"),
		Left:  &[]awscloudwatch.IMetric{dlq.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum")})},
	}))
	consumer.live.AddEventSource(awslambdaeventsources.NewSqsEventSource(q, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(float64(r.BatchSize)),
		ReportBatchItemFailures: jsii.Bool(true),
		MaxConcurrency:          jsii.Number(consumerMaxConc),
	}))
}

// publisher runs the outbox publisher on table's stream, one shard at a
// time. A failed record is retried with the batch bisected until it goes
// through or leaves the stream's retention (the event source's default: no
// retry limit, no maximum age); the publisher parks what retrying cannot
// cure, or what grows too old, in parked, so nothing is discarded. Alarms: a
// parked record (a metric filter on the function's log), an iterator age
// past iteratorAgeAlarm, and the on-failure queue, which would hold the
// metadata of a record that expired all the same.
func (s *shop) publisher(id, service string, table awsdynamodb.Table, bus awsevents.EventBus, parked awsdynamodb.Table, vars map[string]*string) {
	sources := events.SourcesOf(service)
	fn := s.function(id, awsenv.OutboxPublisher, canary.Publisher, publisherTimeout, publisherConcurrency,
		with(vars, awsenv.EventSources, strings.Join(sources, ",")))
	grantPutEvents(fn, bus, sources)
	grant(fn, parked, "PutItem")
	parkedRecords := awslogs.NewMetricFilter(s.stack, jsii.String(id+"ParkedFilter"), &awslogs.MetricFilterProps{
		LogGroup:        s.logs[id],
		FilterPattern:   awslogs.FilterPattern_StringValue(jsii.String("$.msg"), jsii.String("="), jsii.String(streams.ParkedLogMessage)),
		MetricNamespace: jsii.String(awsenv.MetricsNamespace),
		MetricName:      jsii.String(id + "ParkedRecords"),
		MetricValue:     jsii.String("1"),
	})
	parked5m := parkedRecords.Metric(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: awscdk.Duration_Minutes(jsii.Number(5))})
	s.page(fn.service, id+"ParkedAlarm", "The outbox publisher parked a stream record: see the parked-records table, fix the cause, run the republish function", parked5m, 1)
	iteratorAge := fn.Metric(jsii.String("IteratorAge"), &awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: awscdk.Duration_Minutes(jsii.Number(5))})
	s.page(fn.service, id+"IteratorAgeAlarm", "The outbox publisher is falling behind its stream, whose records expire after 24 hours",
		iteratorAge, float64(iteratorAgeAlarm.Milliseconds()))
	s.show(fn.service,
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String(id + ": iterator age (ms)"), Left: &[]awscloudwatch.IMetric{iteratorAge}}),
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String(id + ": parked records"), Left: &[]awscloudwatch.IMetric{parked5m}}))
	failures := awssqs.NewQueue(s.stack, jsii.String(id+"Failures"), &awssqs.QueueProps{
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		EnforceSSL:      jsii.Bool(true),
	})
	s.alarm(fn.service, id+"FailuresAlarm", failures)
	suppress(failures, "AwsSolutions-SQS3", "This queue is itself a dead-letter queue: the on-failure destination of the stream's event source; cdk-nag recognises only SQS redrive policies")
	suppress(fn.Role(), "AwsSolutions-IAM5", "Reading a DynamoDB stream takes dynamodb:ListStreams, which IAM grants only on all resources", "Resource::*")
	fn.live.AddEventSource(awslambdaeventsources.NewDynamoEventSource(table, &awslambdaeventsources.DynamoEventSourceProps{
		StartingPosition:        awslambda.StartingPosition_TRIM_HORIZON,
		BatchSize:               jsii.Number(100),
		BisectBatchOnError:      jsii.Bool(true),
		ReportBatchItemFailures: jsii.Bool(true),
		ParallelizationFactor:   jsii.Number(1),
		OnFailure:               awslambdaeventsources.NewSqsDlq(failures),
		// Only the writes that carry events invoke the publisher: every other
		// record (a stock count, a status with nothing to tell) is dropped by
		// the event source, unbilled.
		Filters: &[]*map[string]any{awslambda.FilterCriteria_Filter(&map[string]any{
			"dynamodb": map[string]any{"NewImage": map[string]any{outboxitem.Attribute: map[string]any{"S": awslambda.FilterRule_Exists()}}},
		})},
	}))
}

// grantPutEvents lets fn put events on bus from sources only (IAM's
// events:source condition key), so that a function made to send another
// service's events is refused by EventBridge as well as by the publisher.
func grantPutEvents(fn *lambdaFn, bus awsevents.EventBus, sources []string) {
	if len(sources) == 0 {
		panic(fmt.Sprintf("%s may put events of no source", fn.id))
	}
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:    jsii.Strings("events:PutEvents"),
		Resources:  &[]*string{bus.EventBusArn()},
		Conditions: &map[string]any{"StringEquals": map[string]any{"events:source": sources}},
	}))
}

// alarm fires as soon as q, a dead-letter queue of service's, holds a message.
func (s *shop) alarm(service, id string, q awssqs.Queue) awscloudwatch.Alarm {
	return s.page(service, id, "Messages are waiting in a dead-letter queue", q.MetricApproximateNumberOfMessagesVisible(nil), 1)
}

// emfQueueMetric is one of the consumers' EMF counters for queue.
func emfQueueMetric(name, queue, label string) awscloudwatch.IMetric {
	return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression: jsii.String(`SUM(SEARCH('Namespace="` + awsenv.MetricsNamespace + `" MetricName="` + name + `" messaging.destination.name="` + queue + `"', 'Sum', 300))`),
		Label:      jsii.String(label),
		Period:     awscdk.Duration_Minutes(jsii.Number(5)),
	})
}

// identity declares the Cognito user pool that signs users in, the app client
// the storefront uses, and the admin group. Sign-up is by an administrator
// unless selfSignUp; every user has MFA (an authenticator app), which the
// admin group's power warrants and Cognito cannot require of one group
// alone; user names are matched without regard to case, and a pre-sign-up
// trigger refuses those the API would refuse.
func (s *shop) identity(selfSignUp bool) (awscognito.UserPool, awscognito.UserPoolClient) {
	preSignUp := s.function("PreSignUpFunction", awsenv.CognitoPreSignUp, canary.Trigger, apiTimeout, triggerConcurrency, nil)
	users := awscognito.NewUserPool(s.stack, jsii.String("Users"), &awscognito.UserPoolProps{
		SelfSignUpEnabled:   jsii.Bool(selfSignUp),
		SignInCaseSensitive: jsii.Bool(false),
		SignInAliases:       &awscognito.SignInAliases{Username: jsii.Bool(true), Email: jsii.Bool(true)},
		AutoVerify:          &awscognito.AutoVerifiedAttrs{Email: jsii.Bool(true)},
		AccountRecovery:     awscognito.AccountRecovery_EMAIL_ONLY,
		Mfa:                 awscognito.Mfa_REQUIRED,
		MfaSecondFactor:     &awscognito.MfaSecondFactor{Otp: jsii.Bool(true), Sms: jsii.Bool(false)},
		PasswordPolicy: &awscognito.PasswordPolicy{
			MinLength: jsii.Number(12), RequireDigits: jsii.Bool(true), RequireLowercase: jsii.Bool(true), RequireUppercase: jsii.Bool(true),
			RequireSymbols: jsii.Bool(true),
		},
		LambdaTriggers: &awscognito.UserPoolTriggers{PreSignUp: preSignUp.live},
		RemovalPolicy:  awscdk.RemovalPolicy_RETAIN,
	})
	suppress(users, "AwsSolutions-COG8", "The Plus feature plan is billed per monthly active user; MFA is required of every user instead. A deployment that wants threat protection can set FeaturePlan PLUS")
	// The client of scripts and tools that sign in with a password (SRP or
	// USER_PASSWORD_AUTH, as in the README); no OAuth flows, which the CDK
	// would otherwise open (implicit grant included) to a placeholder URL.
	// The storefront's pages have their own client (storefront.go).
	client := users.AddClient(jsii.String("StorefrontClient"), &awscognito.UserPoolClientOptions{
		AuthFlows:      &awscognito.AuthFlow{UserSrp: jsii.Bool(true), UserPassword: jsii.Bool(true)},
		GenerateSecret: jsii.Bool(false),
		DisableOAuth:   jsii.Bool(true),
		// A failed sign-in says the same whether or not the user exists.
		PreventUserExistenceErrors: jsii.Bool(true),
	})
	awscognito.NewCfnUserPoolGroup(s.stack, jsii.String("AdminGroup"), &awscognito.CfnUserPoolGroupProps{
		UserPoolId:  users.UserPoolId(),
		GroupName:   jsii.String(auth.AdminGroup),
		Description: jsii.String("May change the catalog and read every basket and order"),
	})
	return users, client
}

// routes gives every route of a service an API Gateway route to fn's live
// alias; every route but the public ones sits behind the JWT authorizer.
// Each route's share of 5xx answers and its p99 latency are alarms that
// page the operators, and charts on the service's dashboard.
func (s *shop) routes(api awsapigatewayv2.HttpApi, authorizer awsapigatewayv2.IHttpRouteAuthorizer, service string, routes []rest.Route, fn *lambdaFn) {
	integration := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String(service+"Integration"), fn.live, nil)
	var requests, failures, p99s []awscloudwatch.IMetric
	for _, r := range routes {
		opts := &awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(r.Path),
			Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod(r.Method)},
			Integration: integration,
		}
		if r.Access != auth.Public {
			opts.Authorizer = authorizer
		}
		for _, route := range *api.AddRoutes(opts) {
			if r.Access == auth.Public {
				suppress(route, "AwsSolutions-APIG4", "The catalog is public by design: anyone may browse products; every other route has the JWT authorizer")
			}
		}
		metric := func(name, statistic, label string) awscloudwatch.Metric {
			return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
				Namespace:  jsii.String("AWS/ApiGateway"),
				MetricName: jsii.String(name),
				// Route metrics, which an HTTP API publishes by ApiId, Stage and
				// Route (its route key) once the stage's detailed metrics are on
				// (guardStage).
				DimensionsMap: &map[string]*string{"ApiId": api.ApiId(), "Stage": jsii.String("$default"), "Route": jsii.String(r.Method + " " + r.Path)},
				Statistic:     jsii.String(statistic),
				Period:        awscdk.Duration_Seconds(jsii.Number(alarmPeriod.Seconds())),
				Label:         jsii.String(label),
			})
		}
		id, label := routeID(r.Method, r.Path), r.Method+" "+r.Path
		errorRate, p99 := metric("5xx", "Average", label), metric("Latency", "p99", label)
		s.page(fn.service, service+id+"ErrorRateAlarm", label+" answered 5xx to "+fmt.Sprint(routeErrorRate*100)+"% of its requests or more", errorRate, routeErrorRate)
		s.page(fn.service, service+id+"LatencyAlarm", label+"'s p99 latency reached "+routeP99.String(), p99, float64(routeP99.Milliseconds()))
		requests, failures, p99s = append(requests, metric("Count", "SampleCount", label)), append(failures, metric("5xx", "Sum", label)), append(p99s, p99)
	}
	s.show(fn.service,
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String("Requests by route"), Left: &requests}),
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String("5xx answers by route"), Left: &failures}),
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String("p99 latency by route (ms)"), Left: &p99s}))
}

// pascal turns "basket-price-view" into "BasketPriceView".
func pascal(s string) string {
	var b strings.Builder
	for _, part := range strings.Split(s, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// guardStage throttles api's default stage and logs every request to a log
// group kept for a month.
func (s *shop) guardStage(api awsapigatewayv2.HttpApi) {
	logs := awslogs.NewLogGroup(s.stack, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_MONTH,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	stage := api.DefaultStage().Node().DefaultChild().(awsapigatewayv2.CfnStage)
	stage.SetDefaultRouteSettings(&awsapigatewayv2.CfnStage_RouteSettingsProperty{
		ThrottlingRateLimit:  jsii.Number(apiRateLimit),
		ThrottlingBurstLimit: jsii.Number(apiBurstLimit),
		// Per-route metrics, which the deployments' alarms and the dashboards read.
		DetailedMetricsEnabled: jsii.Bool(true),
	})
	stage.SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: logs.LogGroupArn(),
		Format: jsii.String(`{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","time":"$context.requestTime",` +
			`"method":"$context.httpMethod","route":"$context.routeKey","status":"$context.status","length":"$context.responseLength",` +
			`"latencyMs":"$context.responseLatency","user":"$context.authorizer.claims.cognito:username","error":"$context.error.message"}`),
	})
}

// suppress records, for cdk-nag, why construct is right as it is.
func suppress(construct constructs.IConstruct, rule, reason string, appliesTo ...string) {
	s := &cdknag.NagPackSuppression{Id: jsii.String(rule), Reason: jsii.String(reason)}
	if len(appliesTo) > 0 {
		var a []interface{}
		for _, x := range appliesTo {
			a = append(a, x)
		}
		s.AppliesTo = &a
	}
	cdknag.NagSuppressions_AddResourceSuppressions(construct, &[]*cdknag.NagPackSuppression{s}, jsii.Bool(true))
}
