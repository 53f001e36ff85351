// Package localapp wires the whole shop for one machine: every service of
// services.All on its SQLite database, their handlers on one mux, the outbox
// relays and the local bus with its consumers. cmd/shop serves it; the
// component test drives it.
package localapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/eventshop/eventshop/api"
	"github.com/eventshop/eventshop/internal/auth/localjwt"
	"github.com/eventshop/eventshop/internal/console"
	"github.com/eventshop/eventshop/internal/correlation/service"
	"github.com/eventshop/eventshop/internal/devsignin"
	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/idempotency"
	idemsqlite "github.com/eventshop/eventshop/internal/idempotency/sqlite"
	"github.com/eventshop/eventshop/internal/localbus"
	bushttp "github.com/eventshop/eventshop/internal/localbus/httpapi"
	"github.com/eventshop/eventshop/internal/rest"
	"github.com/eventshop/eventshop/internal/services"
	"github.com/eventshop/eventshop/internal/sqlitedb"
	"github.com/eventshop/eventshop/internal/telemetry"
	tracehttp "github.com/eventshop/eventshop/internal/telemetry/httpapi"
	"github.com/eventshop/eventshop/internal/wiring"
	"github.com/eventshop/eventshop/web"
)

// Config is what the local shop needs to start.
type Config struct {
	DataDir       string           // every database lives here
	Demo          bool             // load the demo catalog into an empty catalog
	Bus           localbus.Options // queue timings
	RelayInterval time.Duration    // how often the outbox relays poll; default 1s
	// Untraced serves without HTTP spans: what tracing costs a request is
	// measured against it (make bench). Events are traced all the same.
	Untraced bool
	// DevSignIn serves POST /dev/sign-in, which gives anyone a token for any
	// user, admins included: for a shop only its user can reach. It answers
	// loopback names and DevSignInHosts only (devsignin.Register).
	DevSignIn      bool
	DevSignInHosts []string
	// Currency is the ISO 4217 code the pages show prices in; web's default when empty.
	Currency string
}

// currencyCode is the shape of an ISO 4217 code.
var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

// ErrInUse reports a data dir that another shop process holds.
var ErrInUse = errors.New("in use by another shop process")

// ErrNoShop reports a data dir that holds no shop: nothing was ever served from it.
var ErrNoShop = errors.New("holds no shop")

// BusFile is the local bus's database in the data dir.
const BusFile = "bus.db"

// OpenBus opens the event bus of the shop in dataDir, and nothing else, for
// the tools that inspect its queues while the shop is stopped. It fails with
// ErrNoShop, creating nothing, when dataDir holds no bus, and with ErrInUse
// when a shop is running on it. close releases the bus and the data dir.
func OpenBus(ctx context.Context, dataDir string, log *slog.Logger) (_ *localbus.Bus, close func() error, err error) {
	path := filepath.Join(dataDir, BusFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("data dir %s: %w", dataDir, ErrNoShop)
	}
	unlock, err := lockDir(dataDir)
	if err != nil {
		return nil, nil, err
	}
	db, err := sqlitedb.Open(ctx, path, localbus.Schema)
	if err != nil {
		unlock()
		return nil, nil, err
	}
	close = func() error { return errors.Join(db.Close(), unlock()) }
	bus, err := localbus.Open(ctx, db, eventbus.Rules(), localbus.Options{}, log)
	if err != nil {
		close()
		return nil, nil, err
	}
	return bus, close, nil
}

// BusBatch is the most messages the local shop's consumers are given at
// once (localbus.Options.Batch) unless Config.Bus sets another: under load
// a batch's writes commit together, in fewer fsyncs per message than SQS's
// ten a batch would allow.
const BusBatch = 100

// withDefaults returns c with its zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.RelayInterval == 0 {
		c.RelayInterval = time.Second
	}
	if c.Bus.Batch == 0 {
		c.Bus.Batch = BusBatch
	}
	return c
}

// Validate checks c once its defaults are set; the bus's options are checked
// by the bus.
func (c Config) Validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("data dir must not be empty"))
	}
	if c.Currency != "" && !currencyCode.MatchString(c.Currency) {
		errs = append(errs, fmt.Errorf("currency %q: want an ISO 4217 code such as EUR", c.Currency))
	}
	if c.RelayInterval < 0 {
		errs = append(errs, fmt.Errorf("relay interval %v is negative", c.RelayInterval))
	}
	return errors.Join(errs...)
}

// App is the running local shop.
type App struct {
	cfg     Config
	log     *slog.Logger
	bus     *localbus.Bus
	closers []func() error
	handler http.Handler
	// stopping is closed when Run's context ends: the console's event
	// streams end with it.
	stopping chan struct{}
	gauges   gaugeGuard

	// consumers holds each service's consumer, by service: Run starts one
	// on the queue of each rule, as the rule names its consumer.
	consumers map[string]*eventbus.Consumer
	// relays are the services' outboxes, which Run relays to the bus.
	relays []namedOutbox
}

// Open opens (or creates) the shop's databases under cfg.DataDir and wires the
// services. Background work starts with Run.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (_ *App, err error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	a := &App{cfg: cfg, log: log, stopping: make(chan struct{})}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	unlock, err := lockDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, unlock)
	idem, err := idemsqlite.Open(ctx, filepath.Join(cfg.DataDir, "idempotency.db"))
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, idem.Close)
	guard := idempotency.NewGuard(idem, log)
	busDB, err := sqlitedb.Open(ctx, filepath.Join(cfg.DataDir, BusFile), localbus.Schema)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, busDB.Close)
	if a.bus, err = localbus.Open(ctx, busDB, eventbus.Rules(), cfg.Bus, log); err != nil {
		return nil, err
	}

	// The services, each on its own database (services.All).
	mux := http.NewServeMux()
	a.consumers = map[string]*eventbus.Consumer{}
	var demos []func(context.Context, []wiring.DemoProduct) ([]wiring.DemoProduct, error)
	for _, svc := range services.All {
		parts, err := svc.Local(ctx, wiring.Local{Path: filepath.Join(cfg.DataDir, svc.Name+".db"), Log: log, Guard: guard})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", svc.Name, err)
		}
		a.closers = append(a.closers, parts.Close)
		a.relays = append(a.relays, namedOutbox{svc.Name, parts.Outbox})
		if parts.Register != nil {
			parts.Register(mux)
		}
		if parts.Consumer != nil {
			a.consumers[svc.Name] = parts.Consumer
		}
		if parts.Demo != nil {
			demos = append(demos, parts.Demo)
		}
	}
	if err := services.Validate(); err != nil {
		return nil, err
	}

	bushttp.Register(mux, a.bus, log)
	traces, metrics, err := telemetry.Local(ctx, log, services.Names()...)
	if err != nil {
		return nil, err
	}
	tracehttp.Register(mux, traces, metrics, log)
	gauges, err := a.observe()
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	a.closers = append(a.closers, gauges)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /openapi.yaml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(api.OpenAPI)
	})
	keys, err := localjwt.LoadOrCreate(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	console.Register(mux, console.Deps{Bus: a.bus, Outboxes: a.outboxStats, Idle: a.Idle, Stopping: a.stopping}, log)
	signIn := "token" // a token from shop token, pasted
	if cfg.DevSignIn {
		devsignin.Register(mux, keys, log, cfg.DevSignInHosts...)
		signIn = "dev"
	}
	web.Register(mux, web.Config{SignIn: signIn, Console: true, Currency: cfg.Currency})
	// Every request is a span, continuing the caller's traceparent if it
	// sends one (rest.ProblemsFor names it after the route matched, "GET
	// /product/{id}"); the events it causes carry the trace on (events.MetaFrom).
	spans := otel.GetTracerProvider()
	if cfg.Untraced {
		spans = tracenoop.NewTracerProvider()
	}
	byPath, err := serviceOfPath()
	if err != nil {
		return nil, err
	}
	a.handler = byPath(rest.Middleware(log, spans, otel.GetMeterProvider(), keys.Verifier(log).Middleware(rest.ProblemsFor(mux))))

	if cfg.Demo {
		var products []wiring.DemoProduct
		for _, demo := range demos {
			if products, err = demo(ctx, products); err != nil {
				return nil, fmt.Errorf("load the demo data: %w", err)
			}
		}
		if len(products) > 0 {
			log.InfoContext(ctx, "loaded demo data", "products", len(products))
		}
	}
	return a, nil
}

// serviceOfPath returns what names, in a request's context, the service
// whose API serves the request's path (its first segment: /product is the
// catalog's), for its spans (service.With); paths of no service's API
// (pages, console, bus administration) are the host's.
func serviceOfPath() (func(http.Handler) http.Handler, error) {
	bySegment := map[string]string{}
	for _, svc := range services.All {
		if svc.API == nil {
			continue
		}
		name := svc.Name
		for _, r := range svc.API.Routes {
			seg := firstSegment(r.Path)
			if other, ok := bySegment[seg]; ok && other != name {
				return nil, fmt.Errorf("/%s is a path of both %s and %s", seg, other, name)
			}
			bySegment[seg] = name
		}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if name, ok := bySegment[firstSegment(r.URL.Path)]; ok {
				r = r.WithContext(service.With(r.Context(), name))
			}
			next.ServeHTTP(w, r)
		})
	}, nil
}

// firstSegment is "product" of "/product/{id}".
func firstSegment(path string) string {
	seg, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return seg
}

// Handler serves every service's HTTP API.
func (a *App) Handler() http.Handler { return a.handler }

// Idle reports whether the shop has nothing left to do: every outbox
// relayed, and no event on its way through the bus or waiting in a queue
// (localbus.Bus.Idle). A request that arrives meanwhile makes new work, of
// course: Idle speaks of the work there is.
func (a *App) Idle(ctx context.Context) (bool, error) {
	sends := a.bus.Sends()
	if idle, err := a.bus.Idle(ctx); !idle || err != nil {
		return false, err
	}
	// The bus was empty: only a relay sends now, and its rows stay pending
	// until its publish returns.
	for _, ob := range a.outboxes() {
		if n, err := ob.Pending(ctx); n > 0 || err != nil {
			return false, err
		}
	}
	// Nothing came into the bus while the outboxes were read.
	return a.bus.Sends() == sends, nil
}

// Bus is the local event bus, for inspecting and redriving dead letters.
func (a *App) Bus() *localbus.Bus { return a.bus }

// Run relays the outboxes to the bus and runs the consumers and the bus's
// archiver until ctx ends, then waits for work in flight to finish.
func (a *App) Run(ctx context.Context) error {
	context.AfterFunc(ctx, func() { close(a.stopping) })
	var wg sync.WaitGroup
	rules := eventbus.Rules()
	errs := make(chan error, len(rules)+1)
	for _, ob := range a.outboxes() {
		wg.Go(func() { ob.Relay(service.With(ctx, ob.service), a.bus, a.cfg.RelayInterval, a.log) })
	}
	for _, r := range rules {
		wg.Go(func() { errs <- a.bus.Consume(ctx, r.Queue, a.consumers[r.Consumer].HandleReporting) })
	}
	wg.Go(func() { errs <- a.bus.Archive(ctx) })
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

// namedOutbox is a service's outbox.
type namedOutbox struct {
	service string
	wiring.Outbox
}

// outboxes lists every service's outbox.
func (a *App) outboxes() []namedOutbox { return a.relays }

// outboxStats reads how far each service's outbox is behind.
func (a *App) outboxStats(ctx context.Context) ([]console.Outbox, error) {
	var out []console.Outbox
	for _, ob := range a.outboxes() {
		n, err := ob.Pending(ctx)
		if err != nil {
			return nil, err
		}
		oldest, ok, err := ob.Oldest(ctx)
		if err != nil {
			return nil, err
		}
		o := console.Outbox{Service: ob.service, Pending: n}
		if ok {
			o.LagSeconds = max(time.Since(oldest).Seconds(), 0)
		}
		out = append(out, o)
	}
	return out, nil
}

// Close closes every database, then releases the data dir.
func (a *App) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	return errors.Join(errs...)
}
