// Package localapptest starts the whole local shop in a test: in-process,
// served by an httptest server, with the relays and the bus timed for tests.
package localapptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventshop/eventshop/api"
	"github.com/eventshop/eventshop/internal/auth/localjwt"
	"github.com/eventshop/eventshop/internal/localapp"
	"github.com/eventshop/eventshop/internal/localbus"
	"github.com/eventshop/eventshop/internal/waittest"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// Shop is a running shop.
type Shop struct {
	App    *localapp.App
	Keys   *localjwt.Keys // its signing key, read from its data dir
	Server *httptest.Server
	// Stop stops the shop and closes its databases, failing the test on an
	// error; the test's cleanup calls it too, and it runs once.
	Stop func()
}

// Start opens the shop cfg describes and runs it until the test ends or
// Stop. Relays and idle consumers that cfg leaves to their defaults poll
// every 10 ms and a failed message is retried after 10 ms, so that a test
// does not wait on the production timings (the wake-ups on commit and
// publish come first anyway).
func Start(t testing.TB, cfg localapp.Config) *Shop {
	t.Helper()
	return StartLogged(t, cfg, slog.New(slog.DiscardHandler))
}

// StartLogged is Start with the shop logging on log.
func StartLogged(t testing.TB, cfg localapp.Config, log *slog.Logger) *Shop {
	t.Helper()
	if cfg.RelayInterval == 0 {
		cfg.RelayInterval = 10 * time.Millisecond
	}
	if cfg.Bus == (localbus.Options{}) {
		cfg.Bus = localbus.Options{RetryDelay: 10 * time.Millisecond, PollInterval: 10 * time.Millisecond}
	}
	app, err := localapp.Open(t.Context(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	keys, err := localjwt.LoadOrCreate(cfg.DataDir)
	if err != nil {
		cancel()
		<-done
		_ = app.Close()
		t.Fatal(err)
	}
	s := &Shop{App: app, Keys: keys, Server: httptest.NewServer(app.Handler())}
	s.Stop = sync.OnceFunc(func() {
		s.Server.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if err := app.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	t.Cleanup(s.Stop)
	return s
}

// WaitIdle waits until the shop has nothing left to do (localapp.App.Idle):
// what has not happened by then will not, so a test may assert that
// something did not happen.
func (s *Shop) WaitIdle(t testing.TB) {
	t.Helper()
	waittest.For(t, "the shop idle", func() bool {
		idle, err := s.App.Idle(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return idle
	})
}

// Client calls a running shop over HTTP as one caller: a user, an admin,
// or nobody. Every answer from a route of the OpenAPI document is held to
// it: its status must be documented and its body must match.
type Client struct {
	t      testing.TB
	base   string
	token  string
	header http.Header // sent with every request; a body is JSON unless it says otherwise
}

// NewClient calls the shop at base (its scheme, host and port) with token,
// if not empty, as its bearer token.
func NewClient(t testing.TB, base, token string) Client {
	return Client{t: t, base: base, token: token}
}

// Anonymous calls s with no token.
func (s *Shop) Anonymous(t testing.TB) Client { return NewClient(t, s.Server.URL, "") }

// As calls s as user, in the admin group when admin is set, with a token
// signed by s's own key.
func (s *Shop) As(t testing.TB, user string, admin bool) Client {
	t.Helper()
	tok, err := s.Keys.Issue(user, admin, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return NewClient(t, s.Server.URL, tok)
}

// With returns c sending header k: v as well.
func (c Client) With(k, v string) Client {
	h := c.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set(k, v)
	c.header = h
	return c
}

// Response is an answer the shop gave.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Decode decodes r's JSON body into v, failing t if it cannot.
func (r Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Do sends a request with body (JSON, unless a header says otherwise) and
// returns the answer, whatever its status.
func (c Client) Do(method, path, body string) Response {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	c.prepare(req, body != "")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	CheckSpec(c.t, req, res, b)
	return Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// prepare gives req c's headers and token, and a JSON content type when it
// has a body.
func (c Client) prepare(req *http.Request, hasBody bool) {
	if hasBody {
		req.Header.Set("Content-Type", "application/json")
	}
	maps.Copy(req.Header, c.header)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
}

// Want is Do, failing the test unless the answer has status.
func (c Client) Want(status int, method, path, body string) Response {
	c.t.Helper()
	r := c.Do(method, path, body)
	if r.Status != status {
		c.t.Fatalf("%s %s → %d %s, want %d", method, path, r.Status, r.Body, status)
	}
	return r
}

// WantProblem is Want for a problem+json answer whose detail contains detailHas.
func (c Client) WantProblem(status int, method, path, body, detailHas string) {
	c.t.Helper()
	r := c.Want(status, method, path, body)
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		c.t.Fatalf("%s %s: Content-Type %q, want application/problem+json", method, path, ct)
	}
	var p struct {
		Status int    `json:"status"`
		Detail string `json:"detail"`
	}
	r.Decode(c.t, &p)
	if p.Status != status || !strings.Contains(p.Detail, detailHas) {
		c.t.Fatalf("%s %s: problem %+v, want status %d and a detail containing %q", method, path, p, status, detailHas)
	}
}

// specRouter finds operations in the OpenAPI document, whatever the server.
var specRouter = sync.OnceValues(func() (routers.Router, error) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		return nil, err
	}
	doc.Servers = nil
	return legacy.NewRouter(doc)
})

// CheckSpec holds a response to a documented route to the OpenAPI
// document: its status must be documented and its body must match. A route
// the document does not have is left alone: the test is probing what is not
// there.
func CheckSpec(t testing.TB, req *http.Request, res *http.Response, body []byte) {
	t.Helper()
	router, err := specRouter()
	if err != nil {
		t.Fatalf("OpenAPI document: %v", err)
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		return
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true}
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts},
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                opts,
	})
	if err != nil {
		t.Errorf("%s %s → %d does not match api/openapi.yaml: %v", req.Method, req.URL.Path, res.StatusCode, err)
	}
}

// Serve sends the request through h in-process, from any goroutine: no
// network and no check against the document, for benchmarks.
func (c Client) Serve(h http.Handler, method, path, body string) (int, []byte) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	c.prepare(req, true)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// On returns c failing t instead of the test it was made for: a subtest's
// client.
func (c Client) On(t testing.TB) Client {
	c.t = t
	return c
}
