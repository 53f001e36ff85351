package localapp_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventshop/eventshop/internal/events"
)

// The console's event stream shows the latest events first, then each one
// the bus takes, with the queues it went to; admins only.
func TestConsoleStreamsTheBusEvents(t *testing.T) {
	s := start(t, t.TempDir(), false)
	defer s.Stop()
	s.as("alice", false).WantProblem(403, "GET", "/console/api/events", "", "")
	s.anonymous().WantProblem(401, "GET", "/console/api/events", "", "")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.Server.URL+"/console/api/events", nil)
	tok, err := s.Keys.Issue("root", true, time.Minute, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	created := s.as("root", true).Want(201, "POST", "/product", `{"name":"Streamed","category":"Tools","price":2.50}`)
	var p struct{ ID string }
	created.Decode(t, &p)

	lines := bufio.NewScanner(res.Body)
	for lines.Scan() {
		data, ok := strings.CutPrefix(lines.Text(), "data: ")
		if !ok {
			continue
		}
		var ev struct {
			At       time.Time
			Envelope events.Envelope
			Queues   []string
		}
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatalf("event %s: %v", data, err)
		}
		if ev.Envelope.DetailType == events.TypeProductChanged && strings.Contains(string(ev.Envelope.Detail), p.ID) {
			if len(ev.Queues) != 2 || ev.At.IsZero() {
				t.Fatalf("the product's event went to %v at %v, want the basket's and the inventory's queues", ev.Queues, ev.At)
			}
			return
		}
	}
	t.Fatalf("the stream ended (%v) without the product's event", lines.Err())
}

// The outboxes are listed per service; the development sign-in gives a
// token the API takes, and refuses a bad user name; the pages carry their
// security policy.
func TestOutboxesSignInAndPages(t *testing.T) {
	s := start(t, t.TempDir(), false)
	defer s.Stop()
	var obs struct {
		Items []struct {
			Service    string
			Pending    int
			LagSeconds float64
		}
	}
	s.as("root", true).Want(200, "GET", "/console/api/outboxes", "").Decode(t, &obs)
	if len(obs.Items) != 5 || obs.Items[0].Service != "catalog" {
		t.Fatalf("outboxes %+v", obs.Items)
	}
	s.as("alice", false).WantProblem(403, "GET", "/console/api/outboxes", "", "")

	var tok struct {
		Token, UserName string
		Admin           bool
	}
	s.anonymous().Want(200, "POST", "/dev/sign-in", `{"userName":"ada","admin":true}`).Decode(t, &tok)
	if tok.UserName != "ada" || !tok.Admin || tok.Token == "" {
		t.Fatalf("sign-in %+v", tok)
	}
	s.anonymous().With("Authorization", "Bearer "+tok.Token).Want(200, "GET", "/console/api/outboxes", "")
	s.anonymous().WantProblem(400, "POST", "/dev/sign-in", `{"userName":"José"}`, "userName")
	s.anonymous().WantProblem(400, "POST", "/dev/sign-in", `{"userName":"ada","admin":"yes"}`, "admin")
	// Another site's page reaches it only by rebinding its name to this
	// machine (Host is then its name) or by posting from its own origin.
	signIn := func(host, origin string) int {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), "POST", s.Server.URL+"/dev/sign-in", strings.NewReader(`{"userName":"ada","admin":true}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if host != "" {
			req.Host = host
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	own := strings.TrimPrefix(s.Server.URL, "http://")
	for _, tt := range []struct {
		host, origin string
		want         int
	}{
		{"", "", 200},
		{"", s.Server.URL, 200},
		{"localhost:8080", "http://localhost:8080", 200},
		{"attacker.example", "", 403},
		{"attacker.example:" + strings.Split(own, ":")[1], "http://attacker.example:" + strings.Split(own, ":")[1], 403},
		{"", "http://attacker.example", 403},
		{"", "null", 403},
	} {
		if got := signIn(tt.host, tt.origin); got != tt.want {
			t.Errorf("sign-in with Host %q, Origin %q: %d, want %d", tt.host, tt.origin, got, tt.want)
		}
	}

	for _, path := range []string{"/", "/console", "/assets/shop.js", "/config.json"} {
		r := s.anonymous().Do("GET", path, "")
		csp := r.Header.Get("Content-Security-Policy")
		if r.Status != 200 || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: %d, CSP %q", path, r.Status, csp)
		}
	}
	if r := s.anonymous().Do("GET", "/config.json", ""); !strings.Contains(string(r.Body), `"signIn":"dev"`) {
		t.Errorf("config %s", r.Body)
	}
}
