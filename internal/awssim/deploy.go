package awssim

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/eventshop/eventshop/internal/awsenv"
	"github.com/eventshop/eventshop/internal/canary"
)

// Deploy is a deployment of a new version of one function during a run, as
// CodeDeploy makes it with the stack's canary configuration
// (LambdaCanary10Percent5Minutes): the live alias sends canaryShare of the
// function's invocations (API Gateway's and the event source mappings')
// to the new version for canaryWait, watching the gates canary.Gates gives
// its deployment group, then all of them, unless a gate fired: then all
// of them go back to the old version.
type Deploy struct {
	// Function is the one deployed, by its name in the run: an awsenv
	// function ("ordering-consumer", "catalog-api") or a table's publisher
	// ("ordering-publisher").
	Function string
	// Broken makes the new version fail all it is given: an API answers
	// 500, a consumer fails every message, a publisher every record.
	Broken bool
	// After is how many of the workload's actions come before it starts.
	After int
}

// The stack's canary: CodeDeploy's predefined LambdaCanary10Percent5Minutes.
const (
	canaryShare = 0.1
	canaryWait  = 5 * time.Minute
)

// The versions behind a function's live alias: every function runs
// oldVersion until a deployment moves it.
const (
	oldVersion = "1"
	newVersion = "2"
)

// Outcomes of a deployment.
const (
	Succeeded  = "succeeded"
	RolledBack = "rolled back"
)

// DeployReport is how a deployment went.
type DeployReport struct {
	Function string
	Outcome  string        // Succeeded or RolledBack; "" if it never ended
	Took     time.Duration // from its start to its end, in the run's time
	Fired    []string      // the gates in alarm when it rolled back
	// What the new version was given while it took traffic, and failed.
	Handled, Failed int
	// DeadLetters were in dead-letter queues when it started (their alarms
	// in ALARM), which gate nothing.
	DeadLetters int
}

func (r *DeployReport) String() string {
	s := fmt.Sprintf("deployment of %s: %s after %v; the new version handled %d and failed %d", r.Function, r.Outcome, r.Took, r.Handled, r.Failed)
	if len(r.Fired) > 0 {
		s += "; fired: " + strings.Join(r.Fired, ", ")
	}
	if r.DeadLetters > 0 {
		s += fmt.Sprintf("; %d dead letters waited when it started", r.DeadLetters)
	}
	return s
}

// deployment is a Deploy under way.
type deployment struct {
	Deploy
	gates   []canary.Alarm
	breach  [][]bool // each gate's evaluated periods, oldest first
	started int64    // virtual milliseconds; -1 until it starts
	period  int64    // the next period to evaluate
	report  DeployReport
}

func newDeployment(d Deploy, kind canary.Kind) *deployment {
	return &deployment{Deploy: d, started: -1, report: DeployReport{Function: d.Function},
		gates: canary.Gates(kind, canary.Function{Name: d.Function, Alias: liveAlias, Version: newVersion})}
}

// liveAlias is the alias every caller invokes (infra's LiveAlias).
const liveAlias = "live"

func (d *deployment) running() bool { return d.started >= 0 && d.report.Outcome == "" }

// over says whether the deployment has ended.
func (d *deployment) over() bool { return d.report.Outcome != "" }

// version is the version of fn an invocation runs now.
func (s *Sim) version(fn string) string {
	d := s.deploying
	if d == nil || d.Function != fn {
		return oldVersion
	}
	switch {
	case d.report.Outcome == Succeeded:
		return newVersion
	case d.running() && s.rand.Float64() < canaryShare:
		return newVersion
	}
	return oldVersion
}

// fails says whether an invocation of fn's version fails all it is given.
func (s *Sim) fails(fn, version string) bool {
	return version == newVersion && s.deploying != nil && s.deploying.Function == fn && s.deploying.Broken
}

// record counts an invocation of fn's version into the run's CloudWatch
// metrics, as Lambda and the function publish them: Lambda's Errors through
// the alias, by executed version (1 if it failed, died or not; 0 if not),
// and, unless it died, the version's canary line (canary.Of, as
// lambdaenv.Start prints it).
func (s *Sim) record(fn, version string, t canary.Tally, failed, died bool) {
	if s.deploying == nil {
		return // only a deployment's gates read the metrics
	}
	errs := 0.0
	if failed || died {
		errs = 1
	}
	s.metrics.add("AWS/Lambda", "Errors", map[string]string{"FunctionName": fn, "Resource": fn + ":" + liveAlias, "ExecutedVersion": version}, s.now, errs)
	if !died {
		dims := map[string]string{canary.FunctionID: fn, canary.VersionID: version}
		s.metrics.add(awsenv.MetricsNamespace, canary.Handled, dims, s.now, float64(t.Handled))
		s.metrics.add(awsenv.MetricsNamespace, canary.Failed, dims, s.now, float64(t.Failed))
	}
	if d := s.deploying; d != nil && d.Function == fn && version == newVersion && d.running() {
		d.report.Handled += t.Handled
		d.report.Failed += t.Failed
	}
}

// watchDeployment starts the deployment once the workload has made its
// actions before it, evaluates its gates on every period that has ended
// since, as CloudWatch does, and completes it or rolls it back as
// CodeDeploy does.
func (s *Sim) watchDeployment() {
	d := s.deploying
	if d == nil || d.over() {
		return
	}
	if d.started < 0 {
		if s.cfg.Actions-s.shop.left < d.After {
			return
		}
		d.started = s.now
		d.period = s.now / canary.Period.Milliseconds()
		d.breach = make([][]bool, len(d.gates))
		for _, q := range s.queues {
			d.report.DeadLetters += len(q.dead)
		}
		s.trace("deploy %s: version %s takes %.0f%% of the traffic", d.Function, newVersion, canaryShare*100)
		return
	}
	period := canary.Period.Milliseconds()
	for (d.period+1)*period <= s.now {
		var fired []string
		for i, g := range d.gates {
			values := map[string]float64{}
			for _, m := range g.Metrics {
				if m.Statistic != "Sum" {
					panic(fmt.Sprintf("awssim: gate %s takes the %s of %s; the run computes Sum only", g.ID, m.Statistic, m.Name))
				}
				if v, ok := s.metrics.sum(m.Namespace, m.Name, m.Dimensions, d.period*period, (d.period+1)*period); ok {
					values[m.ID] = v
				}
			}
			v, ok := g.Value(values)
			if !ok && g.MissingData != canary.NotBreaching {
				panic(fmt.Sprintf("awssim: gate %s treats missing data as %q; the run knows %q", g.ID, g.MissingData, canary.NotBreaching))
			}
			d.breach[i] = append(d.breach[i], ok && g.Breaches(v))
			if n := g.EvaluationPeriods; len(d.breach[i]) >= n && !slices.Contains(d.breach[i][len(d.breach[i])-n:], false) {
				fired = append(fired, g.ID)
			}
		}
		d.period++
		if len(fired) > 0 {
			d.report.Outcome, d.report.Fired = RolledBack, fired
			d.report.Took = time.Duration(s.now-d.started) * time.Millisecond
			s.trace("deploy %s: %s in alarm: rolled back to version %s", d.Function, strings.Join(fired, ", "), oldVersion)
			return
		}
	}
	if s.now-d.started >= canaryWait.Milliseconds() {
		d.report.Outcome = Succeeded
		d.report.Took = time.Duration(s.now-d.started) * time.Millisecond
		s.trace("deploy %s: no gate fired in %v: version %s takes all the traffic", d.Function, canaryWait, newVersion)
	}
}

// metrics are the run's CloudWatch datapoints: per metric (namespace,
// name and exact dimension set), values at virtual milliseconds.
type metrics map[string][]datapoint

type datapoint struct {
	at    int64
	value float64
}

func metricKey(namespace, name string, dims map[string]string) string {
	var b strings.Builder
	b.WriteString(namespace + " " + name)
	for _, k := range slices.Sorted(maps.Keys(dims)) {
		b.WriteString(" " + k + "=" + dims[k])
	}
	return b.String()
}

func (m metrics) add(namespace, name string, dims map[string]string, at int64, v float64) {
	k := metricKey(namespace, name, dims)
	m[k] = append(m[k], datapoint{at, v})
}

// sum is the Sum statistic of a metric over [from, to), false if it has no
// datapoint there.
func (m metrics) sum(namespace, name string, dims map[string]string, from, to int64) (float64, bool) {
	total, any := 0.0, false
	for _, p := range m[metricKey(namespace, name, dims)] {
		if p.at >= from && p.at < to {
			total += p.value
			any = true
		}
	}
	return total, any
}

// DeadLetter puts body in the dead-letter queue of queue (a rule's queue
// name), as a message an earlier fault left there: its alarm is in ALARM
// when the run starts.
func (s *Sim) DeadLetter(queue, body string) {
	for _, q := range s.queues {
		if q.rule.Queue == queue {
			s.seq++
			q.dead = append(q.dead, &message{id: "m" + fmt.Sprint(s.seq), body: body, receives: q.rule.MaxReceives})
			return
		}
	}
	panic(fmt.Sprintf("awssim: no queue %s", queue))
}
