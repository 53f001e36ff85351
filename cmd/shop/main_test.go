package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eventshop/eventshop/internal/auth/localjwt"
	"github.com/eventshop/eventshop/internal/localapp/localapptest"
	"github.com/eventshop/eventshop/internal/testenv"
	"github.com/eventshop/eventshop/internal/waittest"
)

// These tests run the real binary and kill it, to prove what a crash cannot lose.

var shopBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "shop-bin")
	if err != nil {
		panic(err)
	}
	shopBin = filepath.Join(dir, "shop")
	if out, err := exec.Command("go", "build", "-o", shopBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build shop: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type proc struct {
	cmd   *exec.Cmd
	base  string
	done  chan error
	token string // sent as the bearer token when set
}

// issueToken runs shop token, as a user would.
func issueToken(t *testing.T, dataDir, user string, admin bool) string {
	t.Helper()
	args := []string{"token", "--user", user, "--data", dataDir, "--ttl", "10m"}
	if admin {
		args = append(args, "--admin")
	}
	out, err := exec.Command(shopBin, args...).Output()
	if err != nil {
		t.Fatalf("shop token: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// launch starts shop serve on a free port and waits until it listens.
func launch(t *testing.T, dataDir string) *proc {
	t.Helper()
	cmd := exec.Command(shopBin, "serve", "--addr", "127.0.0.1:0", "--data", dataDir, "--demo=false")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	testenv.DieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "shop listening" {
				addr <- line.Addr
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		p.done <- cmd.Wait()
	}()
	select {
	case p.base = <-addr:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("shop did not start listening")
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return p
}

func (p *proc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
}

// call sends a request to the running binary as p.token's holder, the
// answer held to the OpenAPI document as in the component tests.
func (p *proc) call(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	r := localapptest.NewClient(t, p.base, p.token).Do(method, path, body)
	return r.Status, r.Body
}

func TestKilledShopLosesNoEvent(t *testing.T) {
	data := t.TempDir()
	p := launch(t, data)
	admin, alice := issueToken(t, data, "root", true), issueToken(t, data, "alice", false)
	p.token = admin
	// A burst of catalog writes, then a kill before the relay can have moved them all.
	var ids []string
	for i := range 20 {
		status, body := p.call(t, "POST", "/product", fmt.Sprintf(`{"name":"P%d","category":"C","price":1.%02d}`, i, i))
		if status != 201 {
			t.Fatalf("create: %d %s", status, body)
		}
		var prod struct{ ID string }
		_ = json.Unmarshal(body, &prod)
		ids = append(ids, prod.ID)
	}
	p.kill(t)

	p = launch(t, data)
	p.token = alice
	var items []string
	for _, id := range ids {
		items = append(items, `{"productId":"`+id+`","quantity":1}`)
	}
	basket := `{"userName":"alice","items":[` + strings.Join(items, ",") + `]}`
	waittest.For(t, "every product in the price view after the kill", func() bool {
		status, _ := p.call(t, "POST", "/basket", basket)
		return status == 200
	})
	status, body := p.call(t, "POST", "/basket/checkout", `{"userName":"alice","firstName":"A","lastName":"L","email":"a@b.c","address":"x","paymentMethod":"invoice"}`)
	if status != 202 {
		t.Fatalf("checkout: %d %s", status, body)
	}
	var co struct{ OrderID string }
	_ = json.Unmarshal(body, &co)
	p.kill(t) // right after the checkout committed

	p = launch(t, data)
	p.token = alice
	waittest.For(t, "the order after the kill", func() bool {
		status, _ := p.call(t, "GET", "/order/alice/"+co.OrderID, "")
		return status == 200
	})
	p.kill(t) // as soon as the order exists: its fulfilment is under way

	p = launch(t, data)
	p.token = alice
	type order struct {
		Status, TotalPrice json.RawMessage
		History            []struct{ Status string }
	}
	var o order
	waittest.For(t, "the order paid after the kill", func() bool {
		_, body := p.call(t, "GET", "/order/alice/"+co.OrderID, "")
		return json.Unmarshal(body, &o) == nil && string(o.Status) == `"PAID"`
	})
	// Every redelivery after the kills has come and gone once the shop is idle.
	p.token = admin
	waittest.For(t, "the shop idle", func() bool {
		status, body := p.call(t, "GET", "/console/api/idle", "")
		return status == 200 && strings.TrimSpace(string(body)) == `{"idle":true}`
	})
	p.token = alice
	_, body = p.call(t, "GET", "/order/alice", "")
	var orders struct{ Items []order }
	_ = json.Unmarshal(body, &orders)
	// 1.00 + 1.01 + … + 1.19 = 21.90, each step once.
	if len(orders.Items) != 1 || string(orders.Items[0].TotalPrice) != "21.90" || len(orders.Items[0].History) != 3 {
		t.Fatalf("orders = %s, want one order of 21.90, PLACED, RESERVED and PAID once each", body)
	}
}

func TestGracefulShutdownExitsZero(t *testing.T) {
	p := launch(t, t.TempDir())
	if status, _ := p.call(t, "GET", "/product", ""); status != 200 {
		t.Fatalf("GET /product = %d", status)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("shop exited with %v after SIGTERM, want 0", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("shop did not stop after SIGTERM")
	}
}

func TestTokenCommand(t *testing.T) {
	data := t.TempDir()
	p := launch(t, data)
	p.token = issueToken(t, data, "alice", false)
	if status, body := p.call(t, "GET", "/basket/alice", ""); status != 200 {
		t.Fatalf("with alice's token: %d %s", status, body)
	}
	if status, _ := p.call(t, "POST", "/product", `{"name":"x","category":"c","price":1}`); status != 403 {
		t.Fatalf("a user's token wrote the catalog: %d", status)
	}
	p.token = issueToken(t, data, "root", true)
	if status, body := p.call(t, "POST", "/product", `{"name":"x","category":"c","price":1}`); status != 201 {
		t.Fatalf("with an admin token: %d %s", status, body)
	}
	other := t.TempDir()
	if _, err := localjwt.LoadOrCreate(other); err != nil {
		t.Fatal(err)
	}
	p.token = issueToken(t, other, "alice", false) // signed by another shop's key
	if status, _ := p.call(t, "GET", "/basket/alice", ""); status != 401 {
		t.Fatalf("a token from another shop: %d, want 401", status)
	}
	if err := exec.Command(shopBin, "token", "--data", data).Run(); err == nil {
		t.Fatal("shop token without --user succeeded")
	}
}

func TestServeFlags(t *testing.T) {
	for _, args := range [][]string{{"--addr", "nonsense"}, {"--data", ""}, {"extra"}, {"--log-level", "loud"}, {"--dev-signin=maybe"}} {
		if _, err := parseServe(args, io.Discard); err == nil {
			t.Errorf("parseServe(%q) accepted bad flags", args)
		}
	}
	c, err := parseServe(nil, io.Discard)
	if err != nil || c.addr != "127.0.0.1:8080" || c.app.DataDir != "./data" || !c.app.Demo || !c.app.DevSignIn || c.logLevel != slog.LevelInfo {
		t.Fatalf("defaults = %+v, %v", c, err)
	}
	// The development sign-in: on a loopback address unless told, off elsewhere unless told.
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"--addr", "0.0.0.0:8080"}, false},
		{[]string{"--addr", "0.0.0.0:8080", "--dev-signin"}, true},
		{[]string{"--addr", "[::1]:8080"}, true},
		{[]string{"--addr", "localhost:8080", "--dev-signin=false"}, false},
	} {
		if c, err := parseServe(tc.args, io.Discard); err != nil || c.app.DevSignIn != tc.want {
			t.Errorf("parseServe(%q): dev sign-in %v, %v; want %v", tc.args, c.app.DevSignIn, err, tc.want)
		}
	}
	if c, err := parseServe([]string{"--log-level", "debug"}, io.Discard); err != nil || c.logLevel != slog.LevelDebug {
		t.Errorf("--log-level debug: %v, %v", c.logLevel, err)
	}
}

// An OpenTelemetry setting the shop cannot honour stops it at start, naming
// the variable, before anything is written: no span is lost unsaid.
func TestAnUnsupportedOTLPSettingStopsTheShop(t *testing.T) {
	data := t.TempDir()
	cmd := exec.Command(shopBin, "serve", "--addr", "127.0.0.1:0", "--data", data)
	cmd.Env = append(os.Environ(), "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_PROTOCOL=http/json")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "OTEL_EXPORTER_OTLP_PROTOCOL") {
		t.Fatalf("exit %v, output %s: want a failure naming OTEL_EXPORTER_OTLP_PROTOCOL", err, out)
	}
	if entries, _ := os.ReadDir(data); len(entries) != 0 {
		t.Fatalf("the data dir holds %v after a refused start", entries)
	}
}
