package localapp_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/telemetry"
	"github.com/eventshop/eventshop/internal/waittest"
)

// One checkout sent with a traceparent is one trace, continuing the caller's:
// the HTTP request, the relay publishing each event from the outbox, and
// each consumer the saga passes through, each span the child of the one
// before it.
func TestACheckoutIsOneTrace(t *testing.T) {
	s := start(t, t.TempDir(), true)
	defer s.Stop()
	var phones list[product]
	s.anonymous().Want(200, "GET", "/product?category=Phone", "").Decode(t, &phones)
	body := `{"items":[{"productId":"` + phones.Items[0].ID + `","quantity":1}]}`
	plain := s.as("alice", false)
	waittest.For(t, "the price view", func() bool { return plain.Do("POST", "/basket", body).Status == 200 })
	const traceID, callerSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	alice := plain.With("traceparent", "00-"+traceID+"-"+callerSpan+"-01")
	var co struct{ OrderID string }
	alice.Want(202, "POST", "/basket/checkout", `{`+buyer+`}`).Decode(t, &co)
	waittest.For(t, "the order to be paid", func() bool {
		r := plain.Do("GET", "/order/alice/"+co.OrderID, "")
		return r.Status == 200 && strings.Contains(string(r.Body), `"status":"PAID"`)
	})

	root := s.as("root", true)
	type span struct{ SpanID, ParentSpanID, Name, Kind, Status, Service string }
	var tr struct {
		TraceID string
		Spans   []span
	}
	// A span is exported when it ends, so the delivery's process span can
	// be in the trace before the relay's publish span: wait for both.
	waittest.For(t, "the trace to hold the order's payment", func() bool {
		root.Want(200, "GET", "/console/api/traces/"+traceID, "").Decode(t, &tr)
		return slices.ContainsFunc(tr.Spans, func(s span) bool { return s.Name == "process PaymentCaptured" }) &&
			slices.ContainsFunc(tr.Spans, func(s span) bool { return s.Name == "publish PaymentCaptured" })
	})
	byID := map[string]span{}
	byName := map[string]span{}
	for _, sp := range tr.Spans {
		byID[sp.SpanID], byName[sp.Name] = sp, sp
	}
	parent := func(name string) span {
		t.Helper()
		sp, ok := byName[name]
		if !ok {
			t.Fatalf("no span %q in %+v", name, tr.Spans)
		}
		return byID[sp.ParentSpanID]
	}
	http := byName["POST /basket/checkout"]
	if tr.TraceID != traceID || http.Kind != "server" || http.ParentSpanID != callerSpan {
		t.Fatalf("trace %s, HTTP span %+v: want the caller's trace and span continued", tr.TraceID, http)
	}
	// Each event's creation is a span under the work that made it, and its
	// publishing, delivery and processing are spans under its creation.
	for name, want := range map[string]string{
		"create CheckoutBasket":   "POST /basket/checkout",
		"publish CheckoutBasket":  "create CheckoutBasket",
		"deliver CheckoutBasket":  "create CheckoutBasket",
		"process CheckoutBasket":  "create CheckoutBasket",
		"create OrderPlaced":      "process CheckoutBasket",
		"publish OrderPlaced":     "create OrderPlaced",
		"process OrderPlaced":     "create OrderPlaced",
		"create StockReserved":    "process OrderPlaced",
		"publish StockReserved":   "create StockReserved",
		"process StockReserved":   "create StockReserved",
		"create PaymentCaptured":  "process StockReserved",
		"publish PaymentCaptured": "create PaymentCaptured",
		"process PaymentCaptured": "create PaymentCaptured",
	} {
		if got := parent(name); got.Name != want {
			t.Errorf("parent of %q is %q, want %q", name, got.Name, want)
		}
	}
	// Each span is its service's; the stores' writes are spans of the
	// request or message that made them, in its service.
	for name, service := range map[string]string{
		"POST /basket/checkout": "basket", "create CheckoutBasket": "basket", "publish CheckoutBasket": "basket",
		"deliver CheckoutBasket": "ordering", "process CheckoutBasket": "ordering", "publish OrderPlaced": "ordering",
		"process OrderPlaced": "inventory", "publish StockReserved": "inventory",
		"process StockReserved": "payment", "publish PaymentCaptured": "payment",
		"process PaymentCaptured": "ordering",
	} {
		if !slices.ContainsFunc(tr.Spans, func(s span) bool { return s.Name == name && s.Service == service }) {
			t.Errorf("no span %q of service %q", name, service)
		}
	}
	for service, parent := range map[string]string{
		"basket":   "POST /basket/checkout",
		"ordering": "process CheckoutBasket",
		"payment":  "process StockReserved",
	} {
		if !slices.ContainsFunc(tr.Spans, func(s span) bool {
			return s.Name == "COMMIT" && s.Service == service && byID[s.ParentSpanID].Name == parent
		}) {
			t.Errorf("no COMMIT of %s under %q", service, parent)
		}
	}

	var traces struct{ Items []struct{ TraceID string } }
	root.Want(200, "GET", "/console/api/traces?limit=1000", "").Decode(t, &traces)
	if !slices.ContainsFunc(traces.Items, func(x struct{ TraceID string }) bool { return x.TraceID == traceID }) {
		t.Fatalf("trace %s not listed", traceID)
	}
	plain.WantProblem(403, "GET", "/console/api/traces", "", "")
	root.WantProblem(400, "GET", "/console/api/traces?limit=0", "", "limit")
	root.WantProblem(400, "GET", "/console/api/traces/XYZ", "", "traceId")
	root.WantProblem(404, "GET", "/console/api/traces/0af7651916cd43dd8448eb211c80319c", "", "trace not found")
}

// /metrics is Prometheus text, and a checkout moves its counters: the
// request by route, the events published, the messages delivered; every
// queue and outbox has its gauges.
func TestMetricsMoveWithACheckout(t *testing.T) {
	s := start(t, t.TempDir(), true)
	defer s.Stop()
	scrape := func() map[string]*dto.MetricFamily {
		t.Helper()
		r := s.anonymous().Want(200, "GET", "/metrics", "")
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Fatalf("Content-Type %q, want Prometheus text", ct)
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(bytes.NewReader(r.Body))
		if err != nil {
			t.Fatalf("/metrics does not parse as Prometheus text: %v", err)
		}
		return fams
	}
	// value sums the samples of family whose labels include labels.
	value := func(fams map[string]*dto.MetricFamily, family string, labels ...string) float64 {
		var sum float64
		for _, m := range fams[family].GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			match := true
			for i := 0; i < len(labels); i += 2 {
				match = match && have[labels[i]] == labels[i+1]
			}
			if match {
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
			}
		}
		return sum
	}

	var phones list[product]
	s.anonymous().Want(200, "GET", "/product?category=Phone", "").Decode(t, &phones)
	alice := s.as("alice", false)
	body := `{"items":[{"productId":"` + phones.Items[0].ID + `","quantity":1}]}`
	waittest.For(t, "the price view", func() bool { return alice.Do("POST", "/basket", body).Status == 200 })
	before := scrape()
	var co struct{ OrderID string }
	alice.Want(202, "POST", "/basket/checkout", `{`+buyer+`}`).Decode(t, &co)
	waittest.For(t, "the order to be paid", func() bool {
		r := alice.Do("GET", "/order/alice/"+co.OrderID, "")
		return r.Status == 200 && strings.Contains(string(r.Body), `"status":"PAID"`)
	})
	after := scrape()

	for _, c := range []struct {
		family string
		labels []string
	}{
		{"http_server_request_duration_seconds", []string{"http_route", "/basket/checkout", "http_request_method", "POST", "http_response_status_code", "202"}},
		{"eventshop_events_published_total", []string{"event_detail_type", events.TypeCheckoutBasket}},
		{"eventshop_events_published_total", []string{"event_detail_type", events.TypePaymentCaptured}},
		{"eventshop_messages_delivered_total", []string{"messaging_destination_name", eventbus.QueueOrderingOrders}},
		{"eventshop_messages_delivered_total", []string{"messaging_destination_name", eventbus.QueuePaymentOrders}},
		{"messaging_process_duration_seconds", []string{"messaging_destination_name", eventbus.QueuePaymentOrders, "messaging_system", eventbus.SystemLocalBus}},
		{"eventshop_messages_wait_duration_seconds", []string{"messaging_destination_name", eventbus.QueueOrderingOrders}},
		{"eventshop_orders_outcomes_total", []string{"eventshop_order_outcome", "placed"}},
		{"eventshop_orders_outcomes_total", []string{"eventshop_order_outcome", "paid"}},
		{"eventshop_db_commits_total", []string{"db_namespace", "basket"}},
		{"eventshop_db_commits_total", []string{"db_namespace", "ordering"}},
		{"eventshop_db_commits_total", []string{"db_namespace", "payment"}},
	} {
		if d := value(after, c.family, c.labels...) - value(before, c.family, c.labels...); d < 1 {
			t.Errorf("%s%v moved by %v over a checkout, want at least 1", c.family, c.labels, d)
		}
	}

	hasLabel := func(family, name, value string) bool {
		return slices.ContainsFunc(after[family].GetMetric(), func(m *dto.Metric) bool {
			return slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool { return l.GetName() == name && l.GetValue() == value })
		})
	}
	for _, q := range s.App.Bus().QueueNames() {
		for _, g := range []string{"eventshop_queue_depth", "eventshop_queue_in_flight", "eventshop_queue_dead_letters"} {
			if !hasLabel(g, "messaging_destination_name", q) {
				t.Errorf("%s has no sample for queue %s", g, q)
			}
		}
	}
	for _, svc := range []string{"catalog", "basket", "ordering", "inventory", "payment"} {
		for _, g := range []string{"eventshop_outbox_lag_seconds", "eventshop_outbox_pending"} {
			if !hasLabel(g, "service_name", svc) {
				t.Errorf("%s has no sample for the %s outbox", g, svc)
			}
		}
	}
	if after["go_goroutines"] == nil || after["process_resident_memory_bytes"] == nil {
		t.Error("no Go runtime or process metrics")
	}
	// target_info carries the resource: the host's service in the namespace.
	if !hasLabel("target_info", "service_namespace", "eventshop") || !hasLabel("target_info", "service_name", telemetry.Host) {
		t.Errorf("target_info %v, want the shop's resource", after["target_info"])
	}
	// The text passes client_golang's linter, the checks of promtool check metrics.
	problems, err := promlint.New(bytes.NewReader(s.anonymous().Want(200, "GET", "/metrics", "").Body)).Lint()
	if err != nil || len(problems) > 0 {
		t.Errorf("/metrics lint: %v %+v", err, problems)
	}
}
