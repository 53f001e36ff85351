// Package otlpexport_test runs the local shop with an OTLP endpoint, as a
// user points it at a collector, and checks what the collector receives. It
// is a package of its own because the shop installs its telemetry once per
// process, from the environment it starts in.
package otlpexport_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"log/slog"

	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/localapp"
	"github.com/eventshop/eventshop/internal/localapp/localapptest"
	"github.com/eventshop/eventshop/internal/services"
	"github.com/eventshop/eventshop/internal/telemetry"
	"github.com/eventshop/eventshop/internal/telemetry/otlptest"
	"github.com/eventshop/eventshop/internal/waittest"
)

// protocolVariable names the OTLP protocol TestTheShopExportsItsTelemetry
// uses; TestTheShopExportsOverGRPC runs it again with grpc.
const protocolVariable = "OTLPEXPORT_PROTOCOL"

// The same checks over OTLP/gRPC, in a process of their own.
func TestTheShopExportsOverGRPC(t *testing.T) {
	if os.Getenv(protocolVariable) != "" {
		return // already the run over gRPC
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestTheShopExportsItsTelemetry$", "-test.v")
	cmd.Env = append(os.Environ(), protocolVariable+"=grpc")
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("--- PASS: TestTheShopExportsItsTelemetry")) {
		t.Fatalf("over gRPC: %v\n%s", err, out)
	}
}

// A checkout and a poisoned message reach the collector (over OTLP/HTTP,
// or the protocol protocolVariable names) as the spans of five services,
// each with its resource; the checkout is one trace with no orphan, its
// spans holding the semantic conventions' attributes; the poisoned
// message's failures and dead-lettering are logged, and exported as logs,
// with its trace id, and its dead letter carries that trace.
func TestTheShopExportsItsTelemetry(t *testing.T) {
	protocol := cmp.Or(os.Getenv(protocolVariable), "http/protobuf")
	collector := otlptest.Start(t)
	endpoint := collector.URL
	if protocol == "grpc" {
		endpoint = collector.GRPC
	}
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
	var logs lockedBuffer
	log, err := localapp.Logger(t.Context(), &logs, slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	shop := localapptest.StartLogged(t, localapp.Config{DataDir: t.TempDir()}, log)
	call := func(user string, admin bool, method, path, body string) (int, []byte) {
		t.Helper()
		token, err := shop.Keys.Issue(user, admin, time.Hour, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(method, shop.Server.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	as := func(user string, admin bool) func(method, path, body string, want int) []byte {
		return func(method, path, body string, want int) []byte {
			t.Helper()
			status, b := call(user, admin, method, path, body)
			if status != want {
				t.Fatalf("%s %s: %d %s, want %d", method, path, status, b, want)
			}
			return b
		}
	}
	admin, alice := as("root", true), as("alice", false)

	var product struct{ ID string }
	_ = json.Unmarshal(admin("POST", "/product", `{"name":"Lamp","category":"Home","price":12.50}`, 201), &product)
	basket := `{"items":[{"productId":"` + product.ID + `","quantity":1}]}`
	waittest.For(t, "the basket to take the product", func() bool {
		status, b := call("alice", false, "POST", "/basket", basket)
		if status/100 == 4 && !bytes.Contains(b, []byte(product.ID)) {
			t.Fatalf("POST /basket: %d %s", status, b)
		}
		return status == 200
	})
	var checkout struct{ OrderID string }
	_ = json.Unmarshal(alice("POST", "/basket/checkout",
		`{"firstName":"Alice","lastName":"L","email":"alice@example.com","address":"1 Road","paymentMethod":"invoice"}`, 202), &checkout)
	waittest.For(t, "the order to be paid", func() bool {
		_, b := call("alice", false, "GET", "/order/alice/"+checkout.OrderID, "")
		return bytes.Contains(b, []byte(`"status":"PAID"`))
	})

	// A message the ordering consumer can never handle, in a trace of its own.
	const poisonTrace, poisonCorrelation = "7bf92f3577b34da6a3ce929d0e0e4736", "poison-flow"
	poison := events.Outgoing{ID: "poison-1", Source: events.SourceCheckout, DetailType: events.TypeCheckoutBasket, Time: time.Now(),
		Detail: json.RawMessage(`{"checkoutId":"a/b","correlationId":"` + poisonCorrelation + `","traceparent":"00-` + poisonTrace + `-00f067aa0ba902b7-01"}`)}
	if err := shop.App.Bus().Publish(t.Context(), []events.Outgoing{poison}); err != nil {
		t.Fatal(err)
	}
	q := eventbus.QueueOrderingOrders
	var letters struct {
		Items []struct{ Body json.RawMessage }
	}
	waittest.For(t, "the poisoned message's dead letter", func() bool {
		_ = json.Unmarshal(admin("GET", "/admin/queues/"+q+"/dead-letters", "", 200), &letters)
		return len(letters.Items) == 1
	})
	if !bytes.Contains(letters.Items[0].Body, []byte(poisonTrace)) {
		t.Fatalf("dead letter %s does not carry its trace %s", letters.Items[0].Body, poisonTrace)
	}

	// The checkout's trace: from its request to the payment's last step.
	var spans []otlptest.Span
	var trace []otlptest.Span
	waittest.For(t, "the checkout's trace at the collector", func() bool {
		if err := telemetry.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		spans = collector.Spans()
		i := slices.IndexFunc(spans, func(s otlptest.Span) bool { return s.Name == "POST /basket/checkout" })
		if i < 0 {
			return false
		}
		trace = slices.DeleteFunc(slices.Clone(spans), func(s otlptest.Span) bool { return s.TraceID != spans[i].TraceID })
		return slices.ContainsFunc(trace, func(s otlptest.Span) bool { return s.Name == "process PaymentCaptured" })
	})

	seen := map[string]bool{}
	for _, s := range spans {
		seen[s.Service] = true
		if s.Resource["service.namespace"] != "eventshop" || s.Resource["service.version"] == "" || s.Resource["service.instance.id"] == "" {
			t.Errorf("span %q of %s: resource %v, want the namespace, version and instance id", s.Name, s.Service, s.Resource)
		}
	}
	for _, want := range services.Names() {
		if !seen[want] {
			t.Errorf("no span of service %s; services %v", want, seen)
		}
	}
	byID := map[string]otlptest.Span{}
	for _, s := range trace {
		byID[s.SpanID] = s
	}
	roots := 0
	for _, s := range trace {
		if s.ParentSpanID == "" {
			roots++
			continue
		}
		parent, ok := byID[s.ParentSpanID]
		if !ok {
			t.Errorf("span %q of %s is an orphan: no parent %s in its trace", s.Name, s.Service, s.ParentSpanID)
		} else if s.Start.Before(parent.Start) {
			t.Errorf("span %q starts %v before its parent %q", s.Name, parent.Start.Sub(s.Start), parent.Name)
		}
		checkConventions(t, s)
	}
	if roots != 1 {
		t.Errorf("%d roots in the checkout's trace, want 1", roots)
	}
	t.Logf("%s: %d spans, %d of them the checkout's trace; services %v", protocol, len(spans), len(trace), seen)

	// The poisoned message's failures and its move to the dead-letter queue
	// are logged with its trace and correlation ids, here and at the collector.
	lines := logs.lines(t)
	for _, msg := range []string{"message failed", "message moved to dead-letter queue"} {
		if !slices.ContainsFunc(lines, func(l map[string]any) bool {
			return l["msg"] == msg && l["trace_id"] == poisonTrace && l["span_id"] != nil && l["correlationId"] == poisonCorrelation &&
				l["service"] == events.ServiceOrdering
		}) {
			t.Errorf("no %q line with trace %s, a span id, correlation id %s and service ordering in:\n%s", msg, poisonTrace, poisonCorrelation, logs.String())
		}
	}
	waittest.For(t, "the failure's log record at the collector", func() bool {
		if err := telemetry.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(collector.Logs(), func(l otlptest.Log) bool {
			return l.Body == "message failed" && l.TraceID == poisonTrace && l.Attributes["correlationId"] == poisonCorrelation
		})
	})
}

// checkConventions holds s to the attributes OpenTelemetry's semantic
// conventions give its kind of span.
func checkConventions(t *testing.T, s otlptest.Span) {
	t.Helper()
	need := func(keys ...string) {
		t.Helper()
		for _, k := range keys {
			if s.Attributes[k] == "" {
				t.Errorf("%s span %q of %s has no %s: %v", s.Kind, s.Name, s.Service, k, s.Attributes)
			}
		}
	}
	switch s.Kind {
	case "server":
		need("http.request.method", "http.route", "http.response.status_code", "url.path", "url.scheme", "server.address", "server.port")
		if strings.Contains(s.Attributes["server.address"], ":") {
			t.Errorf("server span %q: server.address %q holds the port", s.Name, s.Attributes["server.address"])
		}
	case "producer", "consumer":
		need("messaging.system", "messaging.destination.name", "messaging.operation.type", "messaging.operation.name", "messaging.message.id")
		if sys := s.Attributes["messaging.system"]; sys != eventbus.SystemLocalBus {
			t.Errorf("span %q: messaging.system %q, want the local bus's %q", s.Name, sys, eventbus.SystemLocalBus)
		}
		want := map[string][]string{"producer": {"send"}, "consumer": {"process", "receive"}}[s.Kind]
		if !slices.Contains(want, s.Attributes["messaging.operation.type"]) {
			t.Errorf("%s span %q: messaging.operation.type %q, want one of %v", s.Kind, s.Name, s.Attributes["messaging.operation.type"], want)
		}
	case "client":
		need("db.system.name", "db.operation.name", "db.namespace")
		want := s.Attributes["db.operation.name"]
		if table := s.Attributes["db.collection.name"]; table != "" {
			want += " " + table
		} else if !slices.Contains([]string{"BEGIN", "COMMIT", "ROLLBACK"}, want) {
			t.Errorf("database span %q has no db.collection.name: %v", s.Name, s.Attributes)
		}
		if s.Name != want {
			t.Errorf("database span %q, want it named %q", s.Name, want)
		}
	case "internal":
		// An event's creation (events.New): its id and source, no
		// messaging attributes, as its bus is not known yet.
		if !strings.HasPrefix(s.Name, "create ") || s.Attributes["event.id"] == "" || s.Attributes["event.source"] == "" {
			t.Errorf("internal span %q of %s: want an event's creation, with its id and source: %v", s.Name, s.Service, s.Attributes)
		}
	default:
		t.Errorf("span %q of %s is of kind %q", s.Name, s.Service, s.Kind)
	}
}

// lockedBuffer is the shop's log, written from its goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *lockedBuffer) lines(t *testing.T) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}
