// Package services lists the shop's services. Adding one is its folder
// (with its wire package, its descriptor) and a line in All; the local
// shop, the AWS simulation, the CDK stack and the Lambda artifacts' tests
// take it from here, and Validate fails on a service only half registered.
package services

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/eventshop/eventshop/internal/awsenv"
	basket "github.com/eventshop/eventshop/internal/basket/wire"
	catalog "github.com/eventshop/eventshop/internal/catalog/wire"
	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
	idemdynamo "github.com/eventshop/eventshop/internal/idempotency/dynamo"
	inventory "github.com/eventshop/eventshop/internal/inventory/wire"
	ordering "github.com/eventshop/eventshop/internal/ordering/wire"
	"github.com/eventshop/eventshop/internal/outbox/streams"
	payment "github.com/eventshop/eventshop/internal/payment/wire"
	"github.com/eventshop/eventshop/internal/wiring"
)

// All are the shop's services, in the order the local shop opens them (and
// builds its demo data: the catalog's products before the inventory's stock).
var All = []wiring.Service{
	catalog.Service,
	basket.Service,
	ordering.Service,
	inventory.Service,
	payment.Service,
}

// The tables that belong to no one service.
var (
	// IdempotencyTable keeps the responses of requests sent with an
	// Idempotency-Key; the TTL forgets them.
	IdempotencyTable = wiring.Table{Env: awsenv.IdempotencyTable, ID: "IdempotencyTable", Name: "idempotency",
		Input: idemdynamo.TableInput, TTL: idemdynamo.TTLAttribute}
	// ParkedTable keeps the stream records the publishers set aside rather
	// than block their shard.
	ParkedTable = wiring.Table{Env: awsenv.ParkedTable, ID: "ParkedRecordsTable", Name: "parked", Input: streams.ParkingTableInput}
)

// Names lists the services' names.
func Names() []string {
	out := make([]string, len(All))
	for i, s := range All {
		out[i] = s.Name
	}
	return out
}

// Tables lists every table on AWS: the services', then the shared ones.
func Tables() []wiring.Table {
	var out []wiring.Table
	for _, s := range All {
		out = append(out, s.Tables...)
	}
	return append(out, IdempotencyTable, ParkedTable)
}

// Functions lists every Lambda function, the services' and the shared
// ones, by name.
func Functions() []awsenv.Function {
	out := awsenv.Shared()
	for _, s := range All {
		out = append(out, s.Functions()...)
	}
	slices.SortFunc(out, func(a, b awsenv.Function) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// FunctionNames lists every Lambda function's name, sorted: the
// directories under cmd/lambda.
func FunctionNames() []string {
	var out []string
	for _, f := range Functions() {
		out = append(out, f.Name)
	}
	return out
}

// Function finds a function by its name.
func Function(name string) (awsenv.Function, bool) {
	fns := Functions()
	i := slices.IndexFunc(fns, func(f awsenv.Function) bool { return f.Name == name })
	if i < 0 {
		return awsenv.Function{}, false
	}
	return fns[i], true
}

// ByName finds a service.
func ByName(name string) (wiring.Service, bool) {
	i := slices.IndexFunc(All, func(s wiring.Service) bool { return s.Name == name })
	if i < 0 {
		return wiring.Service{}, false
	}
	return All[i], true
}

// Validate checks that the services are whole and fit together: each valid
// on its own (wiring.Service.Validate), names and tables unique, every
// rule read by a service with a consumer and every consumer read by a rule,
// every event published by a service with an outbox table and every outbox
// table's service publishing events.
func Validate() error { return validate(All) }

func validate(all []wiring.Service) error {
	var errs []error
	byName := map[string]wiring.Service{}
	tables := []wiring.Table{IdempotencyTable, ParkedTable}
	for _, s := range all {
		if _, twice := byName[s.Name]; twice {
			errs = append(errs, fmt.Errorf("service %s is listed twice", s.Name))
		}
		byName[s.Name] = s
		tables = append(tables, s.Tables...)
		if err := s.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	ids, envs := map[string]bool{}, map[string]bool{}
	for _, t := range tables {
		if ids[t.ID] || envs[t.Env] {
			errs = append(errs, fmt.Errorf("table %s (%s) is declared twice", t.ID, t.Env))
		}
		ids[t.ID], envs[t.Env] = true, true
	}
	read := map[string]bool{}
	for _, r := range eventbus.Rules() {
		read[r.Consumer] = true
		if s, ok := byName[r.Consumer]; !ok || s.Consumer == nil {
			errs = append(errs, fmt.Errorf("rule %s is read by %q, which is no service with a consumer", r.Name, r.Consumer))
		}
	}
	publishers := map[string]bool{}
	for _, c := range events.Contracts() {
		publishers[c.Publisher] = true
		if s, ok := byName[c.Publisher]; !ok || !hasOutbox(s) {
			errs = append(errs, fmt.Errorf("%s is published by %q, which is no service with an outbox table", c.DetailType, c.Publisher))
		}
	}
	for _, s := range all {
		if s.Consumer != nil && !read[s.Name] {
			errs = append(errs, fmt.Errorf("service %s has a consumer, but no rule sends it events", s.Name))
		}
		if hasOutbox(s) && !publishers[s.Name] {
			errs = append(errs, fmt.Errorf("service %s has an outbox table, but no contract names it as a publisher", s.Name))
		}
	}
	return errors.Join(errs...)
}

func hasOutbox(s wiring.Service) bool {
	return slices.ContainsFunc(s.Tables, func(t wiring.Table) bool { return t.Outbox })
}
