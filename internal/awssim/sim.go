// Package awssim runs eventshop's AWS side in one process, against dynalite,
// deterministically from a seed: the API functions as their Lambda mains
// build them (the same apigw.Handler behind the API proxy, the caller's
// claims as API Gateway's JWT authorizer passes them), the consumers on
// their rules' queues, and the outbox publishers on their tables' streams.
// A seeded workload of shoppers and admins drives it while a seeded plan
// injects faults; once the workload is over and the faults stop, the run
// waits until nothing is left to deliver and checks the shop's invariants
// (Check).
//
// What it models, and how:
//   - DynamoDB Streams (dynalite has none): after each successful write the
//     written items are read back and, if they changed, appended to their
//     table's stream; the publisher's event source takes the records with an
//     outbox (the stack's filter), 100 at a time, resumes from the first
//     record it reports failed, and halves the batch after a failed
//     invocation; nothing expires.
//   - EventBridge: PutEvents with its limits (10 entries, 256 KB; going over
//     breaks the run), each entry in EventBridge's envelope, held to its
//     schema (api/events: one that breaks it breaks the run), and routed by
//     the rules of package events through the project's pattern matcher.
//   - SQS and its event source mappings: the rules' batch sizes, partial
//     batch responses, a visibility timeout of 6× the consumer's timeout, a
//     message moved to the dead-letter queue when received after MaxReceives
//     receives; at-least-once and in no set order.
//   - Lambda versions and CodeDeploy (Deploy): during a deployment, the
//     function's live alias sends a tenth of its invocations, API
//     Gateway's and the event source mappings' alike, to the new version;
//     each invocation counts into CloudWatch metrics as Lambda and the
//     function publish them (Errors by executed version, the canary line of
//     package canary); at the end of every minute the deployment group's
//     gates (canary.Gates, which the stack's alarms are built from) are
//     evaluated on them; a gate in alarm rolls the deployment back, five
//     minutes without one completes it.
//   - Faults (Plan): a function that dies after any call it makes to
//     DynamoDB or EventBridge (what it wrote stays, its answer is lost: an
//     SQS batch or a stream batch comes back, an API client sees a 502),
//     TransactionConflict on a transaction, failed PutEvents calls and
//     entries, duplicate and delayed deliveries, and received batches in
//     shuffled order. Two DynamoDB faults are answered on the wire, under
//     the functions' own client (dynamoretry.Options), as DynamoDB answers
//     them: ProvisionedThroughputExceeded at every attempt of a call, and
//     TransactionConflictException to a single-item write for 1 to all of
//     its attempts (dynamoWire). The admin sets stock with and without a
//     version: a 500, or a 409 to a set without one, breaks the run.
//
// Invocations run side by side (sched): every invocation, and every flow of
// a consumer's batch (eventbus.RunFlows), is a task that parks before
// each call to DynamoDB or EventBridge and before each attempt it makes
// again; the seed picks which parked call goes on next, or which new
// invocation starts, so that what two functions do interleaves at their
// calls and a seed still replays exactly. A transaction is in flight
// between its own two points: its items are held, a single-item write to
// one of them meets TransactionConflictException on the wire, and another
// transaction touching one is cancelled with TransactionConflict. Up to
// five batches of a queue are in flight at once (the stack's maximum
// concurrency), one of a stream. The admin's stock changes run alone: the
// checks read what each changed.
//
// What it does not model: a stream's shards, their splits and the
// parallelization factor; the stream's 24-hour retention and the
// publisher's parking of old records; EventBridge's own retries to a
// queue and the rules' dead-letter queues; Lambda's timeouts (a death
// stands for one); clocks (the run has a virtual clock for delays,
// visibility timeouts and the basket's price cache, but the services' own
// timestamps are real); what happens between two calls of one task, which
// runs alone.
package awssim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/eventshop/eventshop/api"
	"github.com/eventshop/eventshop/internal/apigw"
	"github.com/eventshop/eventshop/internal/awsenv"
	"github.com/eventshop/eventshop/internal/canary"
	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/eventschema"
	"github.com/eventshop/eventshop/internal/idempotency"
	idemdynamo "github.com/eventshop/eventshop/internal/idempotency/dynamo"
	"github.com/eventshop/eventshop/internal/outbox/streams"
	"github.com/eventshop/eventshop/internal/services"
	"github.com/eventshop/eventshop/internal/wiring"
)

// Plan is how often each fault happens, from 0 to 1.
type Plan struct {
	Die      float64 // an invocation dies after one of its first 4 calls
	Throttle float64 // a DynamoDB call is refused at every attempt: ProvisionedThroughputExceeded
	// WriteConflict: a single-item write meets a transaction on its item,
	// for 1 to dynamoretry.MaxAttempts attempts (TransactionConflictException).
	WriteConflict float64
	Conflict      float64 // a transaction is cancelled: TransactionConflict
	PutEventsErr  float64 // a PutEvents call fails whole
	EntryErr      float64 // a PutEvents entry fails (ThrottlingException or InternalFailure)
	Duplicate     float64 // a message is delivered twice
	Delay         float64 // a message is delivered up to maxDelay late
}

// maxDelay is the longest a delayed delivery waits, in virtual time.
const maxDelay = 30 * time.Second

// DefaultPlan is the faults' rates of the runs make test and make sim make.
var DefaultPlan = Plan{Die: 0.06, Throttle: 0.02, Conflict: 0.1, WriteConflict: 0.1, PutEventsErr: 0.04, EntryErr: 0.04, Duplicate: 0.08, Delay: 0.25}

// Config is one run.
type Config struct {
	Seed     uint64
	Plan     Plan
	Users    int // shoppers; 4 if 0
	Products int // 5 if 0
	Actions  int // the workload's requests after the set-up; 60 if 0
	// Tables makes a table from its description and returns its name; the
	// tests create them on dynalite.
	Tables func(in func(name string) *dynamodb.CreateTableInput) string
	// Client is the DynamoDB client every function uses (dynalite's),
	// configured as the functions' is (dynamoretry.Options); the run answers
	// its calls through the plan's faults.
	Client *dynamodb.Client
	// Lose, if set, drops the messages it names by queue and detail-type
	// instead of delivering them: a fault AWS never makes, for the tests that
	// show the checks catch what a loss breaks.
	Lose func(queue, detailType string) bool
	// Deploy, if set, deploys a new version of one function while the
	// workload runs; the workload goes on until the deployment has ended.
	Deploy *Deploy
	// Pace is the most virtual time between two arrivals (a request, a
	// batch); 50ms if 0. A deployment's runs set more, for fewer steps.
	Pace time.Duration
}

// maxSteps bounds a run: a shop that never quiesces is a failure, not a hang.
const maxSteps = 200_000

// Sim is one run.
type Sim struct {
	cfg     Config
	plan    Plan
	rand    *rand.Rand
	seq     int
	now     int64 // virtual milliseconds
	db      *db
	queues  []*queue
	streams []*stream
	pubs    map[string]*streams.Publisher
	apis    map[string]apiFunction // by service
	kinds   map[string]canary.Kind // each function's, as the stack declares it
	sched   *sched                 // runs the invocations side by side
	faults  map[string]int
	log     []string
	broke   []error
	tables  map[string]string // by awsenv variable
	shop    *workload
	quiet   bool // no faults: the workload is over
	parking *streams.ParkingTable
	schemas *eventschema.Validator // every event published is held to its schema
	// exclusive, when set, is the task that alone may go on: the admin's
	// stock change, whose effect the workload reads before and after.
	exclusive string
	// held are the items of transactions in flight (table|key → task id).
	held map[string]string
	// deploying is the run's deployment, if it has one.
	deploying *deployment
	metrics   metrics // what CloudWatch would hold
}

// apiFunction is a service's API function.
type apiFunction struct {
	fn      string
	handler http.Handler
}

// invocation is the function running now, and where it dies.
type invocation struct {
	fn     string
	dieAt  int // after this call (from 1); 0: it lives
	calls  int
	dead   bool
	cancel context.CancelFunc
}

type invocationKey struct{}

// invocationOf is the invocation ctx belongs to, or nil for the run's own calls.
func invocationOf(ctx context.Context) *invocation {
	inv, _ := ctx.Value(invocationKey{}).(*invocation)
	return inv
}

// New makes the tables and the functions of a run.
func New(cfg Config) *Sim {
	if cfg.Users == 0 {
		cfg.Users = 4
	}
	if cfg.Products == 0 {
		cfg.Products = 5
	}
	if cfg.Actions == 0 {
		cfg.Actions = 60
	}
	if cfg.Pace == 0 {
		cfg.Pace = 50 * time.Millisecond
	}
	s := &Sim{cfg: cfg, plan: cfg.Plan, rand: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5eed)), faults: map[string]int{},
		pubs: map[string]*streams.Publisher{}, apis: map[string]apiFunction{}, kinds: map[string]canary.Kind{}, tables: map[string]string{}, metrics: metrics{}, sched: newSched(),
		held: map[string]string{}}
	s.db = &db{sim: s, c: functionsClient(cfg.Client, &dynamoWire{sim: s, left: map[string]wireFault{}}), harness: cfg.Client, tables: map[string]*table{}}
	var err error
	if s.schemas, err = eventschema.NewValidator(api.EventSchemas); err != nil {
		panic(err) // the committed schemas compile: a test holds them
	}
	// The tables (services.Tables), with a stream where the stack gives
	// one: on each service's outbox table.
	for _, t := range services.Tables() {
		name := cfg.Tables(t.Input)
		s.tables[t.Env] = name
		tb := &table{name: name, last: map[string]map[string]types.AttributeValue{}}
		for _, k := range t.Input(name).KeySchema {
			tb.keys = append(tb.keys, *k.AttributeName)
		}
		s.db.tables[name] = tb
	}
	log := slog.New(slog.DiscardHandler)
	guard := idempotency.NewGuard(idemdynamo.New(s.db, s.tables[awsenv.IdempotencyTable]), log)
	s.parking = streams.NewParkingTable(s.db, s.tables[awsenv.ParkedTable])

	// The functions, built as their mains build them (cmd/lambda), each
	// given the tables it is granted. Each consumer runs a batch's flows as
	// tasks of the run's scheduler.
	flows := eventbus.RunFlows(s.sched.flows)
	consumers := map[string]func(context.Context, awsevents.SQSEvent) (awsevents.SQSEventResponse, error){}
	deps := func(grants []wiring.Grant) wiring.Dynamo {
		d := wiring.NewDynamo(s.db, grants, func(env string) string { return s.tables[env] }, log)
		d.Now = s.clock
		return d
	}
	for _, svc := range services.All {
		if svc.API != nil {
			d := deps(svc.API.Grants)
			if svc.API.Idempotent() {
				d.Guard = guard
			}
			fn := svc.APIFunction().Name
			s.apis[svc.Name] = apiFunction{fn: fn, handler: apigw.Handler(log, svc.API.Build(d))}
			s.kinds[fn] = canary.API
		}
		if svc.Consumer != nil {
			fn := svc.ConsumerFunction().Name
			consumers[svc.Name] = svc.Consumer.Build(deps(svc.Consumer.Grants)).With(flows).Handle
			s.kinds[fn] = canary.Consumer
		}
		for _, t := range svc.Tables {
			if !t.Outbox {
				continue
			}
			st := &stream{table: s.tables[t.Env], publisher: svc.Name + "-publisher", batch: streamBatchSize}
			s.db.tables[st.table].stream = st
			s.streams = append(s.streams, st)
			s.pubs[st.publisher] = streams.NewPublisher(&eventBridge{sim: s}, events.BusName, events.SourcesOf(svc.Name), s.parking, log, streams.WithBackoff(time.Millisecond, 4*time.Millisecond))
			s.kinds[st.publisher] = canary.Publisher
		}
	}
	if err := services.Validate(); err != nil {
		panic(err)
	}
	for _, r := range eventbus.Rules() {
		s.queues = append(s.queues, &queue{sim: s, rule: r, fn: r.Consumer + "-consumer", handler: consumers[r.Consumer]})
	}
	if cfg.Deploy != nil {
		kind, ok := s.kinds[cfg.Deploy.Function]
		if !ok {
			panic(fmt.Sprintf("awssim: %s is no function of the run", cfg.Deploy.Function))
		}
		s.deploying = newDeployment(*cfg.Deploy, kind)
	}
	s.shop = newWorkload(s)
	return s
}

// clock is the run's virtual time.
func (s *Sim) clock() time.Time { return time.UnixMilli(1_800_000_000_000 + s.now).UTC() }

func (s *Sim) chance(p float64) bool { return !s.quiet && p > 0 && s.rand.Float64() < p }

func (s *Sim) count(fault string) { s.faults[fault]++; s.trace("fault: %s", fault) }

func (s *Sim) trace(format string, args ...any) {
	s.log = append(s.log, fmt.Sprintf("%7d ", s.now)+fmt.Sprintf(format, args...))
}

// broken records something the shop did that breaks its contract with AWS
// (a PutEvents over its limits, a stream record that could not be made).
func (s *Sim) broken(err error) { s.broke = append(s.broke, err) }

// invoke runs an invocation of fn with event in, on the version fn's live
// alias picks (Sim.version), and counts it into the run's metrics
// (Sim.record). run is the handler, told whether that version fails all it
// is given (Deploy.Broken). The plan may have the invocation die after one
// of its calls: its context is then cancelled, as the process is gone, and
// the death is its error whatever the function answered. Its context has
// no deadline: a parked invocation waits for the run, not for the clock.
func (s *Sim) invoke(ctx context.Context, fn string, in any, run func(ctx context.Context, fails bool) (any, error)) (any, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	version := s.version(fn)
	if version != oldVersion {
		s.trace("%s runs version %s", fn, version)
	}
	inv := &invocation{fn: fn, cancel: cancel}
	if s.chance(s.plan.Die) {
		inv.dieAt = 1 + s.rand.IntN(4)
	}
	out, err := run(context.WithValue(ctx, invocationKey{}, inv), s.fails(fn, version))
	s.record(fn, version, canary.Of(in, out, err), err != nil, inv.dead)
	if inv.dead {
		return out, ErrDied
	}
	return out, err
}

// before is a call's faults, if the plan injects one.
func (s *Sim) before(ctx context.Context, op string, in any) error {
	inv := invocationOf(ctx)
	if inv == nil {
		return nil // the harness's own calls
	}
	if inv.dead {
		return ErrDied
	}
	switch {
	case op == "PutEvents" && s.chance(s.plan.PutEventsErr):
		s.count("PutEvents call failed")
		return &smithy.GenericAPIError{Code: "InternalException", Message: "injected by awssim"}
	case op == "PutEvents":
	case op == "TransactWriteItems" && s.chance(s.plan.Conflict):
		s.count("TransactionConflict")
		n := len(in.(*dynamodb.TransactWriteItemsInput).TransactItems)
		reasons := make([]types.CancellationReason, n)
		for i := range reasons {
			reasons[i].Code = aws.String("None")
		}
		reasons[s.rand.IntN(n)].Code = aws.String("TransactionConflict")
		return &types.TransactionCanceledException{Message: aws.String("Transaction cancelled (injected by awssim)"), CancellationReasons: reasons}
	}
	return nil
}

// after counts a call made; the invocation dies after it if the plan says so.
func (s *Sim) after(ctx context.Context, op string) error {
	inv := invocationOf(ctx)
	if inv == nil {
		return nil
	}
	inv.calls++
	if inv.dieAt != 0 && inv.calls == inv.dieAt {
		inv.dead = true
		inv.cancel()
		s.count("function died after a call")
		s.trace("%s died after its call %d (%s)", inv.fn, inv.calls, op)
		return ErrDied
	}
	return nil
}

// entryFault is the error code the plan gives a PutEvents entry, or "".
func (s *Sim) entryFault() string {
	if !s.chance(s.plan.EntryErr) {
		return ""
	}
	code := []string{"ThrottlingException", "InternalFailure"}[s.rand.IntN(2)]
	s.count("PutEvents entry " + code)
	return code
}

// api invokes a service's API function with an HTTP API (payload 2.0) event; a
// function that dies is API Gateway's 502.
func (s *Sim) api(ctx context.Context, service, method, path, body string, claims map[string]string, header map[string]string) (int, string) {
	fn, h := s.apis[service].fn, s.apis[service].handler
	raw, query, _ := strings.Cut(path, "?")
	s.seq++
	req := awsevents.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: raw, RawQueryString: query, Body: body,
		Headers: map[string]string{"content-type": "application/json"},
		RequestContext: awsevents.APIGatewayV2HTTPRequestContext{
			DomainName: "api.example.test", Stage: "$default", RequestID: fmt.Sprintf("req-%d", s.seq),
			HTTP: awsevents.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: raw, Protocol: "HTTP/1.1", SourceIP: "192.0.2.1"},
		},
	}
	for k, v := range header {
		req.Headers[k] = v
	}
	if claims != nil {
		req.RequestContext.Authorizer = &awsevents.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &awsevents.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
		}
	}
	out, err := s.invoke(ctx, fn, req, func(ctx context.Context, fails bool) (any, error) {
		if fails {
			return awsevents.APIGatewayV2HTTPResponse{StatusCode: http.StatusInternalServerError, Body: `{"title":"broken version"}`}, nil
		}
		return httpadapter.NewV2(h).ProxyWithContext(ctx, req)
	})
	res, _ := out.(awsevents.APIGatewayV2HTTPResponse)
	if err != nil {
		res = awsevents.APIGatewayV2HTTPResponse{StatusCode: http.StatusBadGateway, Body: `{"message":"Internal Server Error"}`}
	}
	s.trace("%s %s → %d", method, path, res.StatusCode)
	return res.StatusCode, res.Body
}

// Run drives the workload and the system until the workload is over and
// nothing is left to deliver, then checks the invariants. Each step, once
// no invocation runs (sched), the seed picks one thing to do: start an
// invocation (a shopper's or the admin's request, a queue's or a stream's
// next batch), or let an invocation's parked call go on.
func (s *Sim) Run(ctx context.Context) (*Report, error) {
	if err := s.shop.setUp(ctx); err != nil {
		return nil, err
	}
	tasks := 0
	start := func(f func(ctx context.Context)) func() {
		return func() {
			tasks++
			s.sched.start(ctx, fmt.Sprintf("t%06d", tasks), f)
		}
	}
	for step := 0; ; step++ {
		parked := s.sched.quiet()
		if step == maxSteps {
			return s.report(ctx, errors.New("the shop did not quiesce"))
		}
		if !s.quiet && s.shop.done() {
			s.quiet = true
			s.trace("the workload is over: no more faults")
		}
		var options []func()
		var starts int // options[:starts] start an invocation, the rest let a call go on
		if s.exclusive == "" {
			if !s.shop.done() && !s.shop.busy {
				options = append(options, start(func(ctx context.Context) { s.shop.act(ctx) }))
			}
			for _, st := range s.streams {
				if st.pos < len(st.records) && !st.busy {
					options = append(options, start(func(ctx context.Context) { st.poll(ctx, s, s.pubs[st.publisher]) }))
				}
			}
			for _, q := range s.queues {
				if len(q.visible()) > 0 && q.polling < maxPollers {
					options = append(options, start(func(ctx context.Context) { q.poll(ctx) }))
				}
			}
		}
		starts = len(options)
		for _, p := range parked {
			if s.exclusive == "" || strings.HasPrefix(p.task.id, s.exclusive) {
				options = append(options, func() { s.sched.goOn(p) })
			}
		}
		if len(options) > 0 {
			i := s.rand.IntN(len(options))
			options[i]()
			s.sched.quiet() // what it started or let go runs until it parks or ends
			if i < starts {
				s.now += s.rand.Int64N(s.cfg.Pace.Milliseconds()) // time between arrivals
			} else {
				s.now++ // a call's round trip
			}
			s.watchDeployment()
			continue
		}
		if len(parked) > 0 {
			return s.report(ctx, fmt.Errorf("%d calls parked and none may go on", len(parked)))
		}
		next := int64(-1)
		for _, q := range s.queues {
			for _, m := range q.msgs {
				if next < 0 || m.visibleAt < next {
					next = m.visibleAt
				}
			}
		}
		if next < 0 {
			return s.report(ctx, nil) // quiet: nothing waits anywhere
		}
		s.now = next
	}
}

// maxPollers is how many batches of one queue may be in flight at once:
// the stack's maximum concurrency per event source mapping.
const maxPollers = 5

// Trace is the run's log of requests, deliveries and faults, one line per
// step, each with its virtual millisecond; lines naming any of about, if
// given, only.
func (s *Sim) Trace(about ...string) []string {
	if len(about) == 0 {
		return slices.Clone(s.log)
	}
	var out []string
	for _, l := range s.log {
		for _, a := range about {
			if a != "" && strings.Contains(l, a) {
				out = append(out, l)
				break
			}
		}
	}
	return out
}

var _ streams.PutEventsAPI = (*eventBridge)(nil)
