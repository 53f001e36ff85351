package main

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The pipeline phase: orders through the whole saga (placed, stock
// reserved, paid) as fast as users check out, on a shop of its own.
const (
	burst     = 5 * time.Second  // a burst of checkouts, then its drain
	sustained = 30 * time.Second // a steady load, whose paid rate is compared with its checkout rate
	// sample is how often the shop's counters are read during a run.
	sample = 200 * time.Millisecond
	// pipelineStock is the units the checked-out product is given: every
	// order is reserved and paid, none refused for want of stock.
	pipelineStock = 1_000_000
)

// counters are the shop's counters the pipeline reads from /metrics.
type counters struct {
	at      time.Time
	placed  float64            // OrderPlaced published
	paid    float64            // PaymentCaptured published
	commits map[string]float64 // transactions committed, by database
}

func (c counters) allCommits() float64 {
	var n float64
	for _, v := range c.commits {
		n += v
	}
	return n
}

// scrape reads the counters at url's /metrics.
func scrape(url string) (counters, error) {
	c := counters{at: time.Now(), commits: map[string]float64{}}
	res, err := http.Get(url + "/metrics")
	if err != nil {
		return c, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return c, err
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		return c, err
	}
	for _, m := range fams["eventshop_orders_outcomes_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() != "eventshop_order_outcome" {
				continue
			}
			switch l.GetValue() {
			case "placed":
				c.placed += m.GetCounter().GetValue()
			case "paid":
				c.paid += m.GetCounter().GetValue()
			}
		}
	}
	for _, m := range fams["eventshop_db_commits_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "db_namespace" {
				c.commits[l.GetValue()] += m.GetCounter().GetValue()
			}
		}
	}
	return c, nil
}

// pipelineRun is one load through the saga: the checkouts accepted, and the
// counters from its start, sampled, until the shop was idle with every
// order paid (or, for a sustained load, until the load ended).
type pipelineRun struct {
	accepted int
	samples  []counters // the first at the load's start
	ended    time.Time  // the load's end
}

func (r pipelineRun) first() counters { return r.samples[0] }
func (r pipelineRun) last() counters  { return r.samples[len(r.samples)-1] }

// when is the time of the first sample whose count (of f) reached n more
// than the first's.
func (r pipelineRun) when(f func(counters) float64, n int) time.Time {
	for _, s := range r.samples {
		if f(s)-f(r.first()) >= float64(n) {
			return s.at
		}
	}
	return r.last().at
}

// load has users fill a basket and check out for dur, while the shop's
// counters are sampled; with drain, sampling goes on after the load until
// the shop is idle and every accepted order is paid.
func load(url, admin, product string, users int, dur time.Duration, drain bool) (pipelineRun, error) {
	toks := make([]string, users)
	for i := range toks {
		var err error
		if toks[i], err = signIn(url, fmt.Sprintf("buyer%d", i)); err != nil {
			return pipelineRun{}, err
		}
		if err := fill(url, toks[i], product); err != nil {
			return pipelineRun{}, err
		}
	}
	first, err := scrape(url)
	if err != nil {
		return pipelineRun{}, err
	}
	run := pipelineRun{samples: []counters{first}}
	var (
		accepted atomic.Int64
		failed   atomic.Value
		wg       sync.WaitGroup
		stop     = first.at.Add(dur)
	)
	for _, tok := range toks {
		wg.Go(func() {
			for time.Now().Before(stop) {
				if status, err := do("POST", url+"/basket/checkout", tok, buyer, nil); err != nil || status != 202 {
					failed.Store(fmt.Errorf("checkout: %d %v", status, err))
					return
				}
				accepted.Add(1)
				if err := fill(url, tok, product); err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(sample)
	defer tick.Stop()
	for loading := true; loading; {
		select {
		case <-done:
			loading = false
		case <-tick.C:
		}
		c, err := scrape(url)
		if err != nil {
			return run, err
		}
		run.samples = append(run.samples, c)
	}
	run.ended = time.Now()
	if err, _ := failed.Load().(error); err != nil {
		return run, err
	}
	run.accepted = int(accepted.Load())
	if !drain {
		return run, nil
	}
	for deadline := time.Now().Add(5 * time.Minute); ; <-tick.C {
		c, err := scrape(url)
		if err != nil {
			return run, err
		}
		run.samples = append(run.samples, c)
		if c.paid-first.paid >= float64(run.accepted) {
			var idle struct{ Idle bool }
			if err := getJSON(url+"/console/api/idle", admin, &idle); err != nil {
				return run, err
			}
			if idle.Idle {
				return run, nil
			}
		}
		if time.Now().After(deadline) {
			return run, fmt.Errorf("%d of %d orders paid after five minutes", int(c.paid-first.paid), run.accepted)
		}
	}
}

// pipeline starts a shop of its own, gives a product pipelineStock units,
// and measures a burst of checkouts by users and its drain, then a
// sustained load.
func pipeline(shopBin, dir string, users int) ([]row, error) {
	url, proc, err := startShop(shopBin, dir+"/pipeline")
	if err != nil {
		return nil, err
	}
	defer proc.Process.Kill()
	product, _, err := aProduct(url)
	if err != nil {
		return nil, err
	}
	admin, err := signInAs(url, "root", true)
	if err != nil {
		return nil, err
	}
	if status, err := do("PUT", url+"/inventory/"+product, admin, fmt.Sprintf(`{"available":%d}`, pipelineStock), nil); err != nil || status != 200 {
		return nil, fmt.Errorf("set the stock: %d %v", status, err)
	}

	fmt.Printf("pipeline: a %v burst of checkouts by %d users, and its drain\n", burst, users)
	b, err := load(url, admin, product, users, burst, true)
	if err != nil {
		return nil, err
	}
	start, end := b.first(), b.last()
	n := b.accepted
	took := func(at time.Time) float64 { return at.Sub(start.at).Seconds() }
	checkouts := float64(n) / b.ended.Sub(start.at).Seconds()
	placed := float64(n) / took(b.when(func(c counters) float64 { return c.placed }, n))
	paid := float64(n) / took(end.at)
	drain := end.at.Sub(b.ended)
	perOrder := (end.allCommits() - start.allCommits()) / float64(n)
	var byDB []string
	for _, db := range slices.Sorted(maps.Keys(end.commits)) {
		if d := (end.commits[db] - start.commits[db]) / float64(n); d >= 0.005 {
			byDB = append(byDB, fmt.Sprintf("%s %.2f", db, d))
		}
	}
	rows := []row{
		{figure: fmt.Sprintf("pipeline, %v burst, %d users: checkouts/s accepted", burst, users), shop: fmt.Sprintf("%.0f (%d)", checkouts, n)},
		{figure: "  orders placed/s, burst and drain (vs checkouts/s)", shop: fmt.Sprintf("%.0f", placed), ref: fmt.Sprintf("%.0f", checkouts), ratio: placed / checkouts},
		{figure: "  orders paid/s, burst and drain (vs checkouts/s)", shop: fmt.Sprintf("%.0f", paid), ref: fmt.Sprintf("%.0f", checkouts), ratio: paid / checkouts},
		{figure: "  burst's end → last order paid", shop: fmt.Sprintf("%.1f s", drain.Seconds()), ref: burst.String(),
			target: "≤ 5 s", met: drain <= 5*time.Second},
		{figure: "  commits (fsyncs) per order, every database: " + strings.Join(byDB, ", "), shop: fmt.Sprintf("%.2f", perOrder),
			target: "≤ 1", met: perOrder <= 1},
	}

	fmt.Printf("pipeline: a %v load by %d users\n", sustained, users)
	s, err := load(url, admin, product, users, sustained, false)
	if err != nil {
		return nil, err
	}
	window := s.ended.Sub(s.first().at).Seconds()
	sCheckouts := float64(s.accepted) / window
	sPaid := (s.last().paid - s.first().paid) / window
	rows = append(rows, ratioRow(fmt.Sprintf("pipeline, %v load, %d users: orders paid/s (vs checkouts/s)", sustained, users),
		sPaid, sCheckouts, "%.0f", 0.8))
	rss, err := peakRSS(proc.Process.Pid)
	if err != nil {
		return nil, err
	}
	return append(rows, row{figure: "pipeline shop's peak RSS", shop: fmt.Sprintf("%.0f MB", rss/1e6), target: "≤ 64 MB", met: rss <= 64e6}), nil
}
