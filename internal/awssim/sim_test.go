package awssim_test

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/eventshop/eventshop/internal/awssim"
	"github.com/eventshop/eventshop/internal/dynamotest"
)

var (
	seed  = flag.Uint64("seed", 0, "replay this one seed")
	seeds = flag.Int("seeds", 10, "how many seeds to run, from 1, when -seed is not given")
	each  = flag.Bool("each", false, "log every run's report, not only the failing ones'")
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

// run makes one simulation run of seed on fresh tables.
func run(t *testing.T, seed uint64, plan awssim.Plan) (*awssim.Sim, *awssim.Report) {
	return runLosing(t, seed, plan, nil)
}

func runLosing(t *testing.T, seed uint64, plan awssim.Plan, lose func(queue, detailType string) bool) (*awssim.Sim, *awssim.Report) {
	t.Helper()
	db := dynamotest.Client(t)
	sim := awssim.New(awssim.Config{Seed: seed, Plan: plan, Client: db, Lose: lose,
		Tables: func(in func(string) *dynamodb.CreateTableInput) string { return dynamotest.Table(t, db, in) }})
	r, err := sim.Run(t.Context())
	if err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	return sim, r
}

// TestSimulation runs the whole AWS choreography under faults for a few
// seeds (make sim: many) and holds each quiet shop to its invariants. A
// failing seed prints the trace of what it names; go test
// ./internal/awssim -seed=N replays it.
func TestSimulation(t *testing.T) {
	list := []uint64{*seed}
	if *seed == 0 {
		list = nil
		for i := 1; i <= *seeds; i++ {
			list = append(list, uint64(i))
		}
	}
	faults, orders := map[string]int{}, map[string]int{}
	failed := 0
	for _, sd := range list {
		sim, r := run(t, sd, awssim.DefaultPlan)
		for k, v := range r.Faults {
			faults[k] += v
		}
		for k, v := range r.Orders {
			orders[k] += v
		}
		if *each || len(r.Violations) > 0 {
			t.Log(r)
		}
		if len(r.Violations) > 0 {
			failed++
			t.Errorf("seed %d broke %d invariants; replay: go test ./internal/awssim -run TestSimulation -seed=%d\n%s",
				sd, len(r.Violations), sd, strings.Join(sim.Trace(r.About...), "\n"))
		}
	}
	t.Logf("%d runs, %d failed; orders %v; faults injected:", len(list), failed, orders)
	for _, k := range slices.Sorted(maps.Keys(faults)) {
		t.Logf("  %-32s %d", k, faults[k])
	}
}

// The same seed makes the same run: the faults, the requests and the order
// of deliveries are the seed's.
func TestASeedReplaysExactly(t *testing.T) {
	replayed := uint64(7)
	if *seed != 0 {
		replayed = *seed
	}
	first, r1 := run(t, replayed, awssim.DefaultPlan)
	second, r2 := run(t, replayed, awssim.DefaultPlan)
	a, b := normalise(first.Trace()), normalise(second.Trace())
	if !slices.Equal(a, b) {
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				from := max(0, i-12)
				t.Fatalf("the runs part at step %d; first:\n%s\nsecond:\n%s", i, strings.Join(a[from:i+1], "\n"), strings.Join(b[from:i+1], "\n"))
			}
		}
		t.Fatalf("the runs have %d and %d steps", len(a), len(b))
	}
	if fmt.Sprint(r1.Faults, r1.Orders) != fmt.Sprint(r2.Faults, r2.Orders) {
		t.Fatalf("reports differ: %v / %v", r1, r2)
	}
}

// normalise takes out of a trace what differs between runs by design: the
// ids the services make (UUIDs) and the tables' names.
func normalise(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		f := strings.Fields(l)
		for j, w := range f {
			switch {
			case len(w) >= 32 && strings.Count(w, "-") >= 4:
				f[j] = "<id>"
			case tableName.MatchString(w):
				f[j] = "<table>"
			}
		}
		out[i] = strings.Join(f, " ")
	}
	return out
}

// tableName is the shape of dynamotest's table names.
var tableName = regexp.MustCompile(`^t\d+-\d+:?$`)

// The checks catch what a lost message breaks: orders left half way, and
// stock a cancelled order still holds.
func TestTheChecksCatchALoss(t *testing.T) {
	for name, lose := range map[string]struct {
		queue, detailType, want string
	}{
		"OrderPlaced never reaches the inventory":    {"inventory-orders", "OrderPlaced", "left PLACED"},
		"OrderCancelled never reaches the inventory": {"inventory-orders", "OrderCancelled", "still holds stock"},
	} {
		t.Run(name, func(t *testing.T) {
			found := false
			for sd := uint64(1); sd <= 5 && !found; sd++ {
				_, r := runLosing(t, sd, awssim.DefaultPlan, func(queue, detailType string) bool {
					return queue == lose.queue && detailType == lose.detailType
				})
				for _, v := range r.Violations {
					found = found || strings.Contains(v, lose.want)
				}
			}
			if !found {
				t.Fatalf("5 seeds losing every %s on %s: no violation says %q", lose.detailType, lose.queue, lose.want)
			}
		})
	}
}

// The checks catch a conflict answered as a fault: functions whose client
// does not wait out TransactionConflictException (the SDK's default
// retryer, without dynamoretry.Options) answer an admin's stock change 500.
func TestTheChecksCatchAConflictAnsweredAsAFault(t *testing.T) {
	plain := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(dynamotest.Endpoint(t)),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	tables := dynamotest.Client(t)
	for sd := uint64(1); sd <= 10; sd++ {
		sim := awssim.New(awssim.Config{Seed: sd, Plan: awssim.DefaultPlan, Client: plain,
			Tables: func(in func(string) *dynamodb.CreateTableInput) string { return dynamotest.Table(t, tables, in) }})
		r, err := sim.Run(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range r.Violations {
			if strings.Contains(v, "answered 500") {
				t.Logf("seed %d: %s", sd, v)
				return
			}
		}
	}
	t.Fatal("10 seeds with conflicts reaching the code: no violation says an admin was answered 500")
}
