// Command loadtest measures the shop against its references on this machine
// and prints the figures of the performance targets side by side (make
// loadtest): reads against a bare net/http server, a checkout's way to a
// readable order against the checkout request itself, basket-and-checkout
// pairs against the disk's commit rate, orders through the whole saga
// against the checkouts that make them, and each Lambda function's init
// against hello-world functions. It is a benchmark, not a test: it asserts
// nothing, and the figures vary from run to run by several percent.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/eventshop/eventshop/internal/awsenv"
	"github.com/eventshop/eventshop/internal/services"
	"github.com/eventshop/eventshop/internal/sqlitedb"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "bare" {
		bare(os.Args[2:])
		return
	}
	shop := flag.String("shop", "bin/shop", "the shop binary")
	rie := flag.String("rie", "bin/aws-lambda-rie", "the Lambda Runtime Interface Emulator")
	conns := flag.Int("connections", 64, "connections of the first read load (the second has twice as many)")
	users := flag.Int("users", 32, "users writing baskets and checking out at once")
	dur := flag.Duration("duration", 10*time.Second, "how long each load runs")
	skipLambda := flag.Bool("skip-lambda", false, "leave out the Lambda init figures")
	pipelineOnly := flag.Bool("pipeline-only", false, "measure the order pipeline only")
	flag.Parse()
	if *pipelineOnly {
		err := onlyPipeline(*shop, *users)
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadtest:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*shop, *rie, *conns, *users, *dur, *skipLambda); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

type row struct {
	figure, shop, ref string
	ratio             float64
	target            string
	met               bool
}

// where is where the servers and wrk run (run sets it first).
var where cores

func run(shopBin, rieBin string, conns, users int, dur time.Duration, skipLambda bool) error {
	var err error
	if where, err = placement(); err != nil {
		return err
	}
	fmt.Println(where)
	dir, err := os.MkdirTemp("", "loadtest")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var rows []row

	shopURL, shopProc, err := startShop(shopBin, dir)
	if err != nil {
		return err
	}
	defer shopProc.Process.Kill()
	fmt.Println("shop started; measuring reads")
	id, body, err := aProduct(shopURL)
	if err != nil {
		return err
	}
	bareURL, bareProc, err := startBare(body)
	if err != nil {
		return err
	}
	defer bareProc.Process.Kill()
	report, err := writeReport(dir)
	if err != nil {
		return err
	}
	for _, n := range []int{conns, 2 * conns} {
		shopRead, err := wrk(report, shopURL+"/product/"+id, n, dur)
		if err != nil {
			return err
		}
		bareRead, err := wrk(report, bareURL+"/product/"+id, n, dur)
		if err != nil {
			return err
		}
		rows = append(rows, ratioRow(fmt.Sprintf("GET /product/{id} requests/s, %d connections", n),
			shopRead.rate, bareRead.rate, "%.0f", 0.6),
			row{figure: "  latency p50 / p99", shop: ms(shopRead.p50) + " / " + ms(shopRead.p99),
				ref: ms(bareRead.p50) + " / " + ms(bareRead.p99), target: "p99 < 10 ms", met: shopRead.p99 < 10*time.Millisecond})
	}
	bareProc.Process.Kill()

	fmt.Println("measuring a checkout's way to a readable order")
	for _, c := range []struct {
		figure, target string
		pause          time.Duration
		header         http.Header
	}{
		{"checkout → order readable, p50 (vs the checkout request)", "≤ 2×", sagaEnd, waitForOrder},
		{"  the same, back to back (the last order's saga still running)", "", 0, waitForOrder},
		{"  the same, polling (no Prefer: wait)", "", sagaEnd, nil},
	} {
		req, order, err := checkoutLatency(shopURL, id, checkouts, c.pause, c.header)
		if err != nil {
			return err
		}
		rows = append(rows, row{figure: c.figure, shop: ms(order), ref: ms(req), ratio: float64(order) / float64(req),
			target: c.target, met: c.target == "" || float64(order) <= 2*float64(req)})
	}

	fmt.Println("measuring basket writes and checkouts")
	pairs, err := pairRate(shopURL, id, users, dur)
	if err != nil {
		return err
	}
	rss, err := peakRSS(shopProc.Process.Pid)
	if err != nil {
		return err
	}
	// The disk's commit rate is measured with the shop stopped: a saga still
	// draining the pairs' orders would write to the same disk meanwhile.
	shopProc.Process.Kill()
	_ = shopProc.Wait()
	commits, err := commitRate(filepath.Join(dir, "commits.db"), dur/2)
	if err != nil {
		return err
	}
	rows = append(rows, ratioRow(fmt.Sprintf("basket write + checkout pairs/s, %d users (vs half the one-row commits/s)", users),
		pairs, commits/2, "%.0f", 0.5),
		row{figure: "shop's peak RSS", shop: fmt.Sprintf("%.0f MB", rss/1e6), ref: "", target: "≤ 64 MB", met: rss <= 64e6})

	prows, err := pipeline(shopBin, dir, users)
	if err != nil {
		return err
	}
	rows = append(rows, prows...)

	srows, err := scale(shopBin, dir, conns, dur)
	if err != nil {
		return err
	}
	rows = append(rows, srows...)

	if !skipLambda {
		fmt.Println("measuring Lambda init under the emulator")
		lrows, err := lambdaInit(rieBin, dir)
		if err != nil {
			return err
		}
		rows = append(rows, lrows...)
	}
	printRows(rows)
	return nil
}

// onlyPipeline measures the order pipeline alone (make loadtest's
// pipeline rows).
func onlyPipeline(shopBin string, users int) error {
	var err error
	if where, err = placement(); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "loadtest")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	rows, err := pipeline(shopBin, dir, users)
	if err != nil {
		return err
	}
	printRows(rows)
	return nil
}

func ratioRow(figure string, shop, ref float64, format string, target float64) row {
	r := row{figure: figure, shop: fmt.Sprintf(format, shop), ref: fmt.Sprintf(format, ref), ratio: shop / ref}
	r.target = fmt.Sprintf("≥ %.2f", target)
	r.met = r.ratio >= target
	return r
}

func printRows(rows []row) {
	w, ws, wr := 0, len("eventshop"), len("reference")
	for _, r := range rows {
		w = max(w, utf8.RuneCountInString(r.figure))
		ws = max(ws, utf8.RuneCountInString(r.shop))
		wr = max(wr, utf8.RuneCountInString(r.ref))
	}
	// pad pads s to n runes (fmt's widths count bytes: "→" and "≤" are three).
	pad := func(s string, n int, left bool) string {
		fill := strings.Repeat(" ", max(0, n-utf8.RuneCountInString(s)))
		if left {
			return s + fill
		}
		return fill + s
	}
	fmt.Printf("\n%s  %s  %s  %5s  %11s\n", pad("figure", w, true), pad("eventshop", ws, false), pad("reference", wr, false), "ratio", "target")
	for _, r := range rows {
		ratio := ""
		if r.ratio != 0 {
			ratio = fmt.Sprintf("%.2f", r.ratio)
		}
		met := "met"
		switch {
		case r.target == "":
			met = "" // a figure shown beside the others, with no target
		case !r.met:
			met = "NOT met"
		}
		fmt.Printf("%s  %s  %s  %5s  %s  %s\n", pad(r.figure, w, true), pad(r.shop, ws, false), pad(r.ref, wr, false), ratio, pad(r.target, 11, false), met)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func waitUp(url string) error {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if res, err := http.Get(url); err == nil {
			res.Body.Close()
			return nil
		}
	}
	return fmt.Errorf("%s did not come up", url)
}

func startShop(bin, dir string) (string, *exec.Cmd, error) {
	return startShopOn(bin, filepath.Join(dir, "shop"))
}

// startShopOn serves the data directory data.
func startShopOn(bin, data string) (string, *exec.Cmd, error) {
	addr, err := freeAddr()
	if err != nil {
		return "", nil, err
	}
	cmd := where.server(bin, "serve", "--addr", addr, "--data", data)
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	url := "http://" + addr
	return url, cmd, waitUp(url + "/healthz")
}

func startBare(body []byte) (string, *exec.Cmd, error) {
	addr, err := freeAddr()
	if err != nil {
		return "", nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	cmd := where.server(self, "bare", addr)
	cmd.Stdin = bytes.NewReader(body)
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	url := "http://" + addr
	return url, cmd, waitUp(url + "/product/x")
}

// bare is the reference: a bare net/http server answering GET
// /product/{id} with the product JSON it reads from standard input.
func bare(args []string) {
	body, _ := io.ReadAll(os.Stdin)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /product/{id}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	_ = http.ListenAndServe(args[0], mux)
}

func aProduct(url string) (string, []byte, error) {
	var page struct{ Items []struct{ ID string } }
	if err := getJSON(url+"/product?limit=1", "", &page); err != nil || len(page.Items) == 0 {
		return "", nil, fmt.Errorf("read a product: %v", err)
	}
	res, err := http.Get(url + "/product/" + page.Items[0].ID)
	if err != nil {
		return "", nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return page.Items[0].ID, b, err
}

var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}

func do(method, url, token, body string, out any) (int, error) {
	return doWith(nil, method, url, token, body, out)
}

// doWith is do with the request's header starting from header.
func doWith(header http.Header, method, url, token, body string, out any) (int, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	maps.Copy(req.Header, header)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if out != nil && res.StatusCode < 300 {
		return res.StatusCode, json.NewDecoder(res.Body).Decode(out)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, nil
}

func getJSON(url, token string, out any) error {
	status, err := do("GET", url, token, "", out)
	if err == nil && status != 200 {
		err = fmt.Errorf("GET %s: %d", url, status)
	}
	return err
}

func signIn(url, user string) (string, error) { return signInAs(url, user, false) }

// signInAs signs user in, an admin if admin is set.
func signInAs(url, user string, admin bool) (string, error) {
	var tok struct{ Token string }
	status, err := do("POST", url+"/dev/sign-in", "", fmt.Sprintf(`{"userName":%q,"admin":%t}`, user, admin), &tok)
	if err == nil && status != 200 {
		err = fmt.Errorf("sign in %s: %d", user, status)
	}
	return tok.Token, err
}

const buyer = `{"firstName":"Load","lastName":"Test","email":"load@example.com","address":"1 Bench St","paymentMethod":"invoice"}`

func fill(url, token, product string) error {
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		status, err := do("POST", url+"/basket", token, `{"items":[{"productId":"`+product+`","quantity":1}]}`, nil)
		if err != nil {
			return err
		}
		if status == 200 {
			return nil
		}
		if time.Now().After(deadline) { // the price view has not learnt of the product
			return fmt.Errorf("basket write: %d", status)
		}
	}
}

// checkouts is how many checkouts each latency figure takes the median of:
// with 100, the quiet ratio moved by ±0.2 from one run to the next here.
const checkouts = 300

// waitForOrder is how the client reads its order after the checkout's 202:
// asking the shop to answer once the order is placed (RFC 7240's wait,
// which GET /order/{userName}/{orderId} honours), rather than polling.
var waitForOrder = http.Header{"Prefer": {"wait=5"}}

// sagaEnd is how long after its order is readable a checkout's saga has
// surely ended here (several times what a trace shows it takes), so that
// the next checkout starts on a quiet shop.
const sagaEnd = 30 * time.Millisecond

// checkoutLatency checks out n times in turn, each pause after the last
// order was readable, and returns the p50 of the checkout request and of the
// time until the order is readable, read with header (polled until it is
// found, if the shop answers 404).
func checkoutLatency(url, product string, n int, pause time.Duration, header http.Header) (req, order time.Duration, err error) {
	tok, err := signIn(url, "latency")
	if err != nil {
		return 0, 0, err
	}
	var reqs, orders []time.Duration
	for range n {
		if err := fill(url, tok, product); err != nil {
			return 0, 0, err
		}
		start := time.Now()
		var co struct{ OrderID string }
		if status, err := do("POST", url+"/basket/checkout", tok, buyer, &co); err != nil || status != 202 {
			return 0, 0, fmt.Errorf("checkout: %d %v", status, err)
		}
		reqs = append(reqs, time.Since(start))
		for {
			status, err := doWith(header, "GET", url+"/order/latency/"+co.OrderID, tok, "", nil)
			if err != nil {
				return 0, 0, err
			}
			if status == 200 {
				break
			}
			if time.Since(start) > 10*time.Second {
				return 0, 0, errors.New("an order never became readable")
			}
			// No pause between reads: a short sleep lasts far longer than asked
			// on some kernels, and would make an order look readable late.
		}
		orders = append(orders, time.Since(start))
		time.Sleep(pause)
	}
	return p50(reqs), p50(orders), nil
}

func p50(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// pairRate has users write a basket and check out, over and over, and
// returns the pairs per second.
func pairRate(url, product string, users int, dur time.Duration) (float64, error) {
	toks := make([]string, users)
	for i := range toks {
		var err error
		if toks[i], err = signIn(url, fmt.Sprintf("writer%d", i)); err != nil {
			return 0, err
		}
	}
	var pairs atomic.Int64
	var failed atomic.Value
	stop := time.Now().Add(dur)
	var wg sync.WaitGroup
	for _, tok := range toks {
		wg.Go(func() {
			for time.Now().Before(stop) {
				if err := fill(url, tok, product); err != nil {
					failed.Store(err)
					return
				}
				if status, err := do("POST", url+"/basket/checkout", tok, buyer, nil); err != nil || status != 202 {
					failed.Store(fmt.Errorf("checkout: %d %v", status, err))
					return
				}
				pairs.Add(1)
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		return 0, err
	}
	return float64(pairs.Load()) / dur.Seconds(), nil
}

// commitRate is how many one-row transactions a second SQLite commits, in
// turn, with the shop's own settings (WAL, synchronous=FULL).
func commitRate(path string, dur time.Duration) (float64, error) {
	ctx := context.Background()
	db, err := sqlitedb.Open(ctx, path, `create table if not exists t (n integer)`)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	n := 0
	for stop := time.Now().Add(dur); time.Now().Before(stop); n++ {
		if _, err := db.ExecContext(ctx, `insert into t (n) values (?)`, n); err != nil {
			return 0, err
		}
	}
	return float64(n) / dur.Seconds(), nil
}

func peakRSS(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		return 0, errors.New("no VmHWM")
	}
	kb, _ := strconv.ParseFloat(string(m[1]), 64)
	return kb * 1024, nil
}

// lambdaInit builds every function and the hello-worlds as make lambdas
// builds them (for this machine), starts each function cold under the
// emulator 25 times, each time beside the hello-world that builds the
// AWS clients it builds (DynamoDB's; EventBridge's too for the outbox
// functions), and compares the median inits. The hello-world is measured
// against itself the same way: how far apart two medians of one binary
// come out here, the resolution of the other ratios.
func lambdaInit(rie, dir string) ([]row, error) {
	build := func(name, pkg string) (string, error) {
		out := filepath.Join(dir, "lambda", name, "bootstrap")
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc,nolocal", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("build %s: %v\n%s", name, err, b)
		}
		return out, nil
	}
	// Each function is started cold beside the hello-world, one after the
	// other, 25 times each: the machine's drift (tens of percent over a
	// minute here) falls on both alike.
	const starts = 25
	type binary struct {
		path string
		env  []string
	}
	// medians starts each of bins cold in turn, starts times, and returns
	// each one's median init.
	medians := func(bins ...binary) ([]time.Duration, error) {
		inits := make([][]time.Duration, len(bins))
		for range starts {
			for i, b := range bins {
				d, err := coldStart(rie, b.path, b.env)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", b.path, err)
				}
				inits[i] = append(inits[i], d)
			}
		}
		out := make([]time.Duration, len(bins))
		for i := range inits {
			out[i] = p50(inits[i])
		}
		return out, nil
	}
	plainBin, err := build("hello-plain", "./cmd/loadtest/hello/plain")
	if err != nil {
		return nil, err
	}
	plain, err := medians(binary{path: plainBin})
	if err != nil {
		return nil, err
	}
	dynamoBin, err := build("hello-dynamo", "./cmd/loadtest/hello/dynamo")
	if err != nil {
		return nil, err
	}
	busBin, err := build("hello-eventbridge", "./cmd/loadtest/hello/eventbridge")
	if err != nil {
		return nil, err
	}
	var rows []row
	for _, f := range services.Functions() {
		fn := f.Name
		// A function that publishes to EventBridge (it needs the bus's name)
		// links the EventBridge client: its floor is the hello-world that
		// builds one too.
		floorBin, floorName := dynamoBin, "a DynamoDB client"
		var env []string
		for _, k := range f.Env {
			env = append(env, k+"=loadtest")
			if k == awsenv.EventBusName {
				floorBin, floorName = busBin, "EventBridge and DynamoDB clients"
			}
		}
		bin, err := build(fn, "./cmd/lambda/"+fn)
		if err != nil {
			return nil, err
		}
		m, err := medians(binary{path: floorBin}, binary{path: bin, env: env})
		if err != nil {
			return nil, err
		}
		floor, d := m[0], m[1]
		rows = append(rows, row{figure: "Lambda init, " + fn + " (vs hello-world with " + floorName + ")", shop: ms(d), ref: ms(floor),
			ratio: float64(d) / float64(floor), target: "≤ 1.0×", met: d <= floor})
	}
	self, err := medians(binary{path: dynamoBin}, binary{path: dynamoBin})
	if err != nil {
		return nil, err
	}
	rows = append(rows, row{figure: "  (the hello-world with a DynamoDB client against itself: the noise)", shop: ms(self[1]), ref: ms(self[0]),
		ratio: float64(self[1]) / float64(self[0]), target: "", met: true},
		row{figure: "  (hello-world without an AWS client)", shop: "", ref: ms(plain[0]), target: "", met: true})
	return rows, nil
}

var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// coldStart runs bin under a fresh emulator, invokes it once, and returns
// the init duration the emulator reports.
func coldStart(rie, bin string, env []string) (time.Duration, error) {
	addr, err := freeAddr()
	if err != nil {
		return 0, err
	}
	var logs bytes.Buffer
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", addr, bin)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=loadtest", "AWS_SECRET_ACCESS_KEY=loadtest", "AWS_EC2_METADATA_DISABLED=true"}, env...)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	url := "http://" + addr + "/2015-03-31/functions/function/invocations"
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		res, err := http.Post(url, "application/json", strings.NewReader(`{}`))
		if err == nil {
			res.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			return 0, errors.New("the emulator did not answer")
		}
	}
	time.Sleep(50 * time.Millisecond) // the emulator logs its report after it answers
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	m := initReport.FindStringSubmatch(logs.String())
	if m == nil {
		return 0, fmt.Errorf("no init report in:\n%s", logs.String())
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return time.Duration(v * float64(time.Millisecond)), nil
}
