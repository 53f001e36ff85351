// Package wiring describes a service once, for every place that runs or
// deploys it: its tables, its HTTP API and its consumer, what each of its
// functions may call on DynamoDB, and how its parts are built on DynamoDB
// and on SQLite. The local shop, the AWS simulation, the Lambda mains and
// the CDK stack read the same value (each service's wire package), so a
// service registered in one place is registered in all.
package wiring

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/eventshop/eventshop/internal/awsenv"
	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/rest"
)

// Service is one of the shop's services.
type Service struct {
	Name     string // its events' Publisher, its rules' Consumer, its service.name
	Tables   []Table
	API      *API      // nil: it serves no HTTP API
	Consumer *Consumer // nil: it consumes no events
	// Local opens the service on one machine, its store in a SQLite
	// database of its own. Lambda builds (the nolocal tag) leave it nil,
	// and SQLite out of their binaries.
	Local func(ctx context.Context, d Local) (Parts, error)
}

// Table is one of a service's DynamoDB tables on AWS.
type Table struct {
	Env   string // the environment variable that names it to a function
	ID    string // its construct id in the stack
	Name  string // the name it is given where names are chosen (tests, the simulation)
	Input func(name string) *dynamodb.CreateTableInput
	// Outbox: its items carry the service's events, which its publisher
	// sends from the table's stream. A service has at most one.
	Outbox bool
	TTL    string // the attribute DynamoDB expires items by, if any
}

// Grant is what a function may call on one table: DynamoDB's actions,
// without the dynamodb: prefix, on the table and on its secondary indexes.
type Grant struct {
	Table   string // the table's Env
	Actions []string
	Indexes []string
}

// API is a service's HTTP API, one Lambda function on AWS.
type API struct {
	Routes []rest.Route
	Grants []Grant
	Build  func(d Dynamo) func(*http.ServeMux)
}

// Idempotent reports whether one of a's routes keeps its responses for an
// Idempotency-Key, in the shop's idempotency table.
func (a *API) Idempotent() bool {
	return slices.ContainsFunc(a.Routes, func(r rest.Route) bool { return r.Idempotent })
}

// Consumer is a service's consumer of events, one Lambda function on AWS
// that reads every queue whose rule names the service.
type Consumer struct {
	Grants []Grant
	Build  func(d Dynamo) *eventbus.Consumer
}

// DynamoDB is what the services' DynamoDB stores call.
type DynamoDB interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Dynamo is what a function's parts are built from on AWS.
type Dynamo struct {
	DB DynamoDB
	// Tables names the tables the function was granted, by Env; any other
	// is "".
	Tables map[string]string
	Log    *slog.Logger
	Guard  rest.Idempotency // set for an API that is Idempotent
	Now    func() time.Time // the clock; time.Now if nil
}

// NewDynamo is what a function granted grants is built from: db, and the
// name of each table it is granted, as name gives it by the table's
// variable (the function's environment, the simulation's tables).
func NewDynamo(db DynamoDB, grants []Grant, name func(env string) string, log *slog.Logger) Dynamo {
	d := Dynamo{DB: db, Tables: make(map[string]string, len(grants)), Log: log}
	for _, g := range grants {
		d.Tables[g.Table] = name(g.Table)
	}
	return d
}

// Clock is d.Now, or time.Now.
func (d Dynamo) Clock() func() time.Time {
	if d.Now == nil {
		return time.Now
	}
	return d.Now
}

// Local is what a service's parts are built from on one machine.
type Local struct {
	Path  string // the service's SQLite database
	Log   *slog.Logger
	Guard rest.Idempotency
}

// Parts are a service opened on one machine.
type Parts struct {
	Register func(*http.ServeMux) // its API's handlers, if it has an API
	Consumer *eventbus.Consumer   // if it consumes events
	Outbox   Outbox               // what its writes publish
	Close    func() error
	// Demo, if set, adds the service's part of the demo data to a shop
	// whose catalog holds none yet: it is given the products the services
	// before it in the list made, and returns them with its own.
	Demo func(ctx context.Context, products []DemoProduct) ([]DemoProduct, error)
}

// Outbox is a service's outbox on one machine (package outbox's), which
// the local shop relays to its bus.
type Outbox interface {
	// Relay publishes what the outbox holds until ctx ends.
	Relay(ctx context.Context, pub eventbus.Publisher, interval time.Duration, log *slog.Logger)
	Pending(ctx context.Context) (int, error)
	Oldest(ctx context.Context) (t time.Time, ok bool, err error)
}

// DemoProduct is a product of the demo catalog.
type DemoProduct struct {
	ID      string
	Version int64
}

// APIFunction is the Lambda function of s's API: the variables it requires
// are its tables' and, if it is idempotent, the idempotency table's.
func (s Service) APIFunction() awsenv.Function {
	env := tableEnv(s.API.Grants)
	if s.API.Idempotent() {
		env = append(env, awsenv.IdempotencyTable)
	}
	return awsenv.Function{Name: s.Name + "-api", Service: s.Name, Env: env}
}

// ConsumerFunction is the Lambda function of s's consumer.
func (s Service) ConsumerFunction() awsenv.Function {
	return awsenv.Function{Name: s.Name + "-consumer", Service: s.Name, Env: tableEnv(s.Consumer.Grants)}
}

// Functions lists s's Lambda functions.
func (s Service) Functions() []awsenv.Function {
	var out []awsenv.Function
	if s.API != nil {
		out = append(out, s.APIFunction())
	}
	if s.Consumer != nil {
		out = append(out, s.ConsumerFunction())
	}
	return out
}

// Title is s's name as construct ids begin with it: "Catalog".
func (s Service) Title() string { return strings.ToUpper(s.Name[:1]) + s.Name[1:] }

func tableEnv(grants []Grant) []string {
	var env []string
	for _, g := range grants {
		env = append(env, g.Table)
	}
	return env
}

// Validate checks that s is whole: a name, grants on its own tables only,
// at most one outbox table, and a way to build each part it declares.
func (s Service) Validate() error {
	if s.Name == "" || strings.ToLower(s.Name) != s.Name {
		return fmt.Errorf("service %q: a name in lower case is required", s.Name)
	}
	var envs []string
	outboxes := 0
	for _, t := range s.Tables {
		if t.Env == "" || t.ID == "" || t.Name == "" || t.Input == nil {
			return fmt.Errorf("service %s: table %+v needs an Env, an ID, a Name and an Input", s.Name, t)
		}
		envs = append(envs, t.Env)
		if t.Outbox {
			outboxes++
		}
	}
	if outboxes > 1 {
		return fmt.Errorf("service %s: %d outbox tables, at most one", s.Name, outboxes)
	}
	check := func(part string, grants []Grant, built bool) error {
		if !built {
			return fmt.Errorf("service %s: its %s has no Build", s.Name, part)
		}
		for _, g := range grants {
			if !slices.Contains(envs, g.Table) {
				return fmt.Errorf("service %s: its %s is granted %s, which is not one of its tables", s.Name, part, g.Table)
			}
		}
		return nil
	}
	if s.API != nil {
		if len(s.API.Routes) == 0 {
			return fmt.Errorf("service %s: its API has no routes", s.Name)
		}
		if err := check("API", s.API.Grants, s.API.Build != nil); err != nil {
			return err
		}
	}
	if s.Consumer != nil {
		if err := check("consumer", s.Consumer.Grants, s.Consumer.Build != nil); err != nil {
			return err
		}
	}
	return nil
}
