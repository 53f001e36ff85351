package awssim_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/eventshop/eventshop/internal/awssim"
	"github.com/eventshop/eventshop/internal/dynamotest"
	"github.com/eventshop/eventshop/internal/eventbus"
)

// deliveryFaults are the faults of the deployment runs: duplicate and late
// deliveries. A function's death is one of Lambda's Errors, which rolls
// any version back by design, so the runs that tell a healthy version from
// a broken one do without it.
var deliveryFaults = awssim.Plan{Duplicate: awssim.DefaultPlan.Duplicate, Delay: awssim.DefaultPlan.Delay}

// deployRun runs seed with d under way, at a pace that gives a deployment's
// five minutes enough traffic to judge, and fails t on any broken
// invariant but those allowed.
func deployRun(t *testing.T, seed uint64, d awssim.Deploy, before func(*awssim.Sim), allowed ...string) *awssim.DeployReport {
	t.Helper()
	db := dynamotest.Client(t)
	sim := awssim.New(awssim.Config{Seed: seed, Plan: deliveryFaults, Client: db, Actions: 40, Pace: 400 * time.Millisecond, Deploy: &d,
		Tables: func(in func(string) *dynamodb.CreateTableInput) string { return dynamotest.Table(t, db, in) }})
	if before != nil {
		before(sim)
	}
	r, err := sim.Run(t.Context())
	if err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	for _, v := range r.Violations {
		if !slices.ContainsFunc(allowed, func(a string) bool { return strings.Contains(v, a) }) {
			t.Errorf("seed %d: %s\n%s", seed, v, strings.Join(sim.Trace(r.About...), "\n"))
		}
	}
	if r.Deployment == nil {
		t.Fatal("no deployment in the report")
	}
	t.Logf("seed %d: %v", seed, r.Deployment)
	return r.Deployment
}

// rolledBack holds d to a rollback on its failure-rate gate, after the new
// version was given some of the traffic.
func rolledBack(t *testing.T, d *awssim.DeployReport) {
	t.Helper()
	if d.Outcome != awssim.RolledBack || !slices.Contains(d.Fired, "FailureRateAlarm") || d.Handled == 0 || d.Failed != d.Handled {
		t.Fatalf("%v; want a rollback on FailureRateAlarm after the new version failed all it was given", d)
	}
	if d.Took >= 5*time.Minute {
		t.Errorf("rolled back after %v, not inside the canary's five minutes", d.Took)
	}
}

// A consumer whose new version fails every message is rolled back inside
// the canary's wait, though it returns no error (its batch response names
// the failures): every accepted checkout still reaches its end, nothing is
// dead-lettered.
func TestCanaryRollsBackABrokenConsumer(t *testing.T) {
	rolledBack(t, deployRun(t, 1, awssim.Deploy{Function: "ordering-consumer", Broken: true, After: 5}, nil))
}

// A stream publisher whose new version fails every record is rolled back;
// the stream hands the records to the old version, and none is lost.
func TestCanaryRollsBackABrokenPublisher(t *testing.T) {
	rolledBack(t, deployRun(t, 2, awssim.Deploy{Function: "ordering-publisher", Broken: true, After: 5}, nil))
}

// An API whose new version answers 500 is rolled back on its 5xx share.
func TestCanaryRollsBackABrokenAPI(t *testing.T) {
	rolledBack(t, deployRun(t, 3, awssim.Deploy{Function: "basket-api", Broken: true, After: 5}, nil))
}

// A healthy version of each kind of function takes all the traffic after
// the canary's five minutes.
func TestCanaryCompletesAHealthyVersion(t *testing.T) {
	for i, fn := range []string{"basket-api", "inventory-consumer", "inventory-publisher"} {
		t.Run(fn, func(t *testing.T) {
			d := deployRun(t, uint64(10+i), awssim.Deploy{Function: fn, After: 5}, nil)
			if d.Outcome != awssim.Succeeded || d.Handled == 0 || d.Took < 5*time.Minute {
				t.Fatalf("%v; want it to succeed after five minutes of traffic", d)
			}
		})
	}
}

// A dead letter left from before (its queue's alarm in ALARM) does not
// stop a deployment, which might be the fix: it pages, it gates nothing.
func TestAStaleQueueAlarmDoesNotBlockADeploy(t *testing.T) {
	queue := eventbus.QueueInventoryOrders
	d := deployRun(t, 4, awssim.Deploy{Function: "inventory-consumer", After: 5},
		func(s *awssim.Sim) { s.DeadLetter(queue, `{"detail-type":"OrderPlaced","detail":{"orderId":"stale"}}`) },
		"dead letter on "+queue) // the stale one, which the run leaves where it was
	if d.DeadLetters != 1 || d.Outcome != awssim.Succeeded {
		t.Fatalf("%v; want it to succeed with the stale dead letter waiting", d)
	}
}
