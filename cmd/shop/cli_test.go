package main

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/localapp"
)

// cli runs the command line in-process and returns its exit code and output.
func cli(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"help", "nothing"}} {
		code, out, errOut := cli(args...)
		if code != 0 || !strings.Contains(out, "usage:") || errOut != "" {
			t.Errorf("shop %q → %d, stdout %q, stderr %q; want the usage on stdout and 0", args, code, out, errOut)
		}
	}
	for cmd, want := range map[string][]string{
		"serve":  {"--addr", "--data", "--demo"},
		"token":  {"--user", "--admin", "--ttl", "--data"},
		"dlq":    {"--data", "queues", "list QUEUE", "redrive QUEUE [ID]", "delete QUEUE ID", eventbus.QueueOrderingOrders, eventbus.QueueBasketPrices},
		"replay": {"--data", "--from", "--to", "--rule", "--queue", "--detail-type", "CatalogProductToBasket", eventbus.QueueBasketPrices},
	} {
		for _, args := range [][]string{{cmd, "--help"}, {cmd, "-h"}, {"help", cmd}} {
			code, out, _ := cli(args...)
			if code != 0 {
				t.Errorf("shop %q → %d, want 0", args, code)
			}
			for _, w := range want {
				if !strings.Contains(out, w) {
					t.Errorf("shop %q does not document %q:\n%s", args, w, out)
				}
			}
		}
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "usage:"},
		{[]string{"frobnicate"}, `there is no command "frobnicate"`},
		{[]string{"token"}, "--user is required"},
		{[]string{"token", "--user", "a", "extra"}, "takes no arguments"},
		{[]string{"serve", "--nope"}, "flag provided but not defined: -nope"},
		{[]string{"dlq"}, "a subcommand is required"},
		{[]string{"dlq", "drain", "q"}, `there is no subcommand "drain"`},
		{[]string{"dlq", "list"}, "list takes a QUEUE"},
		{[]string{"dlq", "show", "q"}, "show takes a QUEUE and an ID"},
		{[]string{"replay", "--from", "2026-12-01T00:00:00Z"}, "give --rule or --queue"},
		{[]string{"replay", "--rule", "Nope", "--from", "2026-12-01T00:00:00Z"}, `there is no rule "Nope"`},
		{[]string{"replay", "--queue", "q", "--from", "yesterday"}, "is not an RFC 3339 time"},
		{[]string{"replay", "--queue", "q", "--from", "2026-12-02T00:00:00Z", "--to", "2026-12-01T00:00:00Z"}, "--from must be before --to"},
	}
	for _, tt := range tests {
		code, out, errOut := cli(tt.args...)
		if code != 2 || out != "" || !strings.Contains(errOut, tt.want) || !strings.Contains(errOut, "usage:") {
			t.Errorf("shop %q → %d, stdout %q, stderr %q; want 2 and %q with the usage on stderr", tt.args, code, out, errOut, tt.want)
		}
	}
}

// A data dir that holds no shop is refused, and nothing is created in it.
func TestCommandsRefuseADirWithoutAShop(t *testing.T) {
	empty := t.TempDir()
	missing := filepath.Join(t.TempDir(), "missing")
	for _, dir := range []string{empty, missing} {
		for _, args := range [][]string{
			{"token", "--user", "alice", "--data", dir},
			{"dlq", "--data", dir, "list", eventbus.QueueOrderingOrders},
			{"dlq", "--data", dir, "queues"},
			{"replay", "--data", dir, "--rule", "CatalogProductToBasket", "--from", "2026-12-01T00:00:00Z"},
		} {
			code, out, errOut := cli(args...)
			if code != 1 || out != "" || !strings.Contains(errOut, "holds no shop") || strings.HasPrefix(errOut, "{") {
				t.Errorf("shop %q → %d, stdout %q, stderr %q; want 1 and a sentence saying there is no shop", args, code, out, errOut)
			}
		}
	}
	if entries, err := os.ReadDir(empty); err != nil || len(entries) != 0 {
		t.Errorf("the empty dir now holds %v (%v)", entries, err)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("the missing dir was created: %v", err)
	}
}

func TestServeOnABusyPortWritesNothing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	data := filepath.Join(t.TempDir(), "new")
	code, _, errOut := cli("serve", "--addr", ln.Addr().String(), "--data", data)
	if code != 1 || !strings.Contains(errOut, "Cannot listen on "+ln.Addr().String()) || strings.HasPrefix(errOut, "{") {
		t.Fatalf("serve on a busy port → %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Fatalf("the data dir was created: %v", err)
	}
}

// stoppedShop serves a shop once and stops it, leaving its data dir.
func stoppedShop(t *testing.T) string {
	t.Helper()
	data := t.TempDir()
	p := launch(t, data)
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := <-p.done; err != nil {
		t.Fatalf("shop stopped with %v", err)
	}
	return data
}

// addDeadLetter puts body into queue's dead-letter queue, as a consumer that
// gave up on it would have, but not necessarily JSON.
func addDeadLetter(t *testing.T, data, queue, body string) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(data, "bus.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`insert into goqite (queue, body) values (?, cast(? as blob))`, queue+"-dlq", body); err != nil {
		t.Fatal(err)
	}
}

func TestDeadLettersWhileStopped(t *testing.T) {
	data := stoppedShop(t)
	q := eventbus.QueueOrderingOrders
	code, out, errOut := cli("dlq", "--data", data, "list", q)
	if code != 0 || out != "" || errOut != "The dead-letter queue of "+q+" is empty.\n" {
		t.Fatalf("list of an empty DLQ → %d, %q, %q", code, out, errOut)
	}
	code, _, errOut = cli("dlq", "--data", data, "list", "nope")
	if code != 1 || !strings.Contains(errOut, eventbus.QueueBasketPrices) || !strings.Contains(errOut, q) {
		t.Fatalf("unknown queue → %d, %q; want the valid queues named", code, errOut)
	}
	addDeadLetter(t, data, q, `{"detail-type":"CheckoutBasket"}`)
	addDeadLetter(t, data, q, "not JSON {")
	code, out, errOut = cli("dlq", "--data", data, "list", q)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 || !strings.Contains(lines[0], `"body":{"detail-type":"CheckoutBasket"}`) || !strings.Contains(lines[1], `"raw":"not JSON {"`) {
		t.Fatalf("list → %d, stdout %q, stderr %q; want both messages, the second raw", code, out, errOut)
	}
	code, out, _ = cli("dlq", "--data", data, "queues")
	if code != 0 || !strings.Contains(out, q) || !strings.Contains(out, "2 dead letters") {
		t.Fatalf("queues → %d, %q", code, out)
	}
}

func TestDeadLettersWhileServing(t *testing.T) {
	data := stoppedShop(t)
	q := eventbus.QueueBasketPrices
	addDeadLetter(t, data, q, "not JSON {")
	launch(t, data)
	// The shop holds the data dir now: these go through its admin API.
	out, err := exec.Command(shopBin, "dlq", "--data", data, "list", q).Output()
	if err != nil || !strings.Contains(string(out), `"raw":"not JSON {"`) {
		t.Fatalf("list while serving → %v, %q", err, out)
	}
	id := strings.Split(strings.Split(string(out), `"id":"`)[1], `"`)[0]
	if out, err := exec.Command(shopBin, "dlq", "--data", data, "show", q, id).Output(); err != nil || !strings.Contains(string(out), id) {
		t.Fatalf("show → %v, %q", err, out)
	}
	if out, err := exec.Command(shopBin, "dlq", "--data", data, "delete", q, id).Output(); err != nil || !strings.Contains(string(out), "Deleted "+id) {
		t.Fatalf("delete → %v, %q", err, out)
	}
	cmd := exec.Command(shopBin, "dlq", "--data", data, "show", q, id)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil || stderr.String() != "shop dlq: No such dead letter.\n" {
		t.Fatalf("show a deleted one → %v, %q", err, stderr.String())
	}
	cmd = exec.Command(shopBin, "dlq", "--data", data, "list", "nope")
	stderr.Reset()
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil || !strings.Contains(stderr.String(), q) {
		t.Fatalf("unknown queue while serving → %v, %q", err, stderr.String())
	}
}

// archiveEvent has the stopped shop's bus take e and archive it.
func archiveEvent(t *testing.T, data string, e events.Outgoing) {
	t.Helper()
	bus, closeBus, err := localapp.OpenBus(t.Context(), data, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer closeBus()
	if err := bus.Publish(t.Context(), []events.Outgoing{e}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // the archiver writes what waits, then returns
	if err := bus.Archive(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestReplay(t *testing.T) {
	data := stoppedShop(t)
	e, err := events.New(context.Background(), events.SourceCatalog, events.TypeProductChanged, events.ProductChanged{ProductID: "p1", Name: "P", Category: "C", Price: 100, Version: 1}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	archiveEvent(t, data, e)
	from := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	code, out, errOut := cli("replay", "--data", data, "--rule", "CatalogProductToBasket", "--from", from)
	if code != 0 || out != "Sent 1 events to "+eventbus.QueueBasketPrices+" again.\n" || !strings.Contains(errOut, "replayed 1 of the 1 events archived") {
		t.Fatalf("replay while stopped → %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, _ = cli("replay", "--data", data, "--queue", eventbus.QueueOrderingOrders, "--from", from)
	if code != 0 || out != "Sent 0 events to "+eventbus.QueueOrderingOrders+" again.\n" {
		t.Fatalf("replay to a queue whose rule takes none of them → %d, %q", code, out)
	}
	launch(t, data)
	// The shop holds the data dir now: this goes through its admin API.
	got, err := exec.Command(shopBin, "replay", "--data", data, "--queue", eventbus.QueueInventoryCatalog, "--from", from).Output()
	if err != nil || string(got) != "Sent 1 events to "+eventbus.QueueInventoryCatalog+" again (of the 1 archived in the range).\n" {
		t.Fatalf("replay while serving → %v, %q", err, got)
	}
}
