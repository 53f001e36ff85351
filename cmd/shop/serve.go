package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/eventshop/eventshop/internal/localapp"
	"github.com/eventshop/eventshop/internal/localbus"
	"github.com/eventshop/eventshop/internal/rest"
	"github.com/eventshop/eventshop/internal/telemetry"
	"github.com/eventshop/eventshop/web"
)

// AddressFile in the data dir holds the URL of the shop serving it, while it
// runs, so that the other commands can reach it.
const AddressFile = "ADDRESS"

// Server timeouts. A request's headers must arrive within readHeaderTimeout
// and its whole body within readTimeout: a client that announces more body
// than it sends is answered 408 then, not held for long.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
)

type serveConfig struct {
	addr      string
	app       localapp.Config
	devSignIn optionalBool
	logLevel  slog.Level
	archiveMB int64
}

// optionalBool is a boolean flag that knows whether it was given.
type optionalBool struct{ set, value bool }

func (b *optionalBool) IsBoolFlag() bool { return true }
func (b *optionalBool) String() string {
	if b == nil || !b.set {
		return "on a loopback address"
	}
	return strconv.FormatBool(b.value)
}
func (b *optionalBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	b.set, b.value = true, v
	return nil
}

// devSignInOn decides whether serve offers the development sign-in: as
// told, or else only when it listens on a loopback address, which no one
// else can reach.
func devSignInOn(b optionalBool, addr string) bool {
	if b.set {
		return b.value
	}
	host, _, _ := net.SplitHostPort(addr)
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func serveFlags(c *serveConfig) *flags {
	fs := newFlags("serve", "shop serve [--addr HOST:PORT] [--data DIR] [--demo=false] [--dev-signin=BOOL] [--log-level LEVEL] [--currency CODE] [--archive-age 168h] [--archive-mb 256]",
		"\nThe shop logs JSON lines to stderr. It stops on SIGINT or SIGTERM after finishing\nthe requests and events in flight.\n")
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&c.app.DataDir, "data", "./data", "directory for the shop's databases, created if missing")
	fs.BoolVar(&c.app.Demo, "demo", true, "load the demo catalog into an empty catalog")
	fs.StringVar(&c.app.Currency, "currency", web.DefaultCurrency, "the ISO 4217 code the storefront shows prices in")
	fs.Var(&c.devSignIn, "dev-signin", "offer the storefront's development sign-in, a token for any user, admins included (default: only on a loopback address)")
	fs.TextVar(&c.logLevel, "log-level", slog.LevelInfo, "least level logged: debug (every request), info (refused requests too), warn or error")
	fs.DurationVar(&c.app.Bus.ArchiveAge, "archive-age", localbus.DefaultArchiveAge, "how long the bus's archive keeps events, for shop replay")
	fs.Int64Var(&c.archiveMB, "archive-mb", localbus.DefaultArchiveBytes>>20, "the most the archive keeps, in MB of envelopes (the oldest go first)")
	return fs
}

func parseServe(args []string, stdout io.Writer) (serveConfig, error) {
	var c serveConfig
	fs := serveFlags(&c)
	if err := fs.parse(args, stdout); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fs.fail("serve takes no arguments, but was given %q", fs.Args())
	}
	if _, _, err := net.SplitHostPort(c.addr); err != nil {
		return c, fs.fail("--addr %q is not HOST:PORT", c.addr)
	}
	if c.app.DataDir == "" {
		return c, fs.fail("--data must not be empty")
	}
	if c.app.Bus.ArchiveAge <= 0 || c.archiveMB <= 0 {
		return c, fs.fail("--archive-age and --archive-mb must be more than 0")
	}
	c.app.Bus.ArchiveBytes = c.archiveMB << 20
	c.app.DevSignIn = devSignInOn(c.devSignIn, c.addr)
	// The development sign-in answers the address the shop listens on too,
	// when it names one (not 0.0.0.0 or ::), beside the loopback names.
	if host, _, _ := net.SplitHostPort(c.addr); host != "" {
		if ip := net.ParseIP(host); ip == nil || !ip.IsUnspecified() {
			c.app.DevSignInHosts = []string{host}
		}
	}
	return c, nil
}

// HeapLimit is the Go heap's soft limit in shop serve, unless GOMEMLIMIT
// sets another: what is left of the shop's memory target once SQLite's page
// caches, the goroutine stacks and the binary have theirs. Under load the
// collector runs more often instead of letting the heap grow past it; Go
// caps the collector's share of the CPU, so a heap that must outgrow the
// limit still can (docs/performance.md).
const HeapLimit = 28 << 20

// GCPercent is shop serve's GOGC unless the environment sets one. Serving
// reads, the live heap is small, and at the default the collector ran often
// enough to show in a read's tail latency; HeapLimit bounds what the larger
// factor lets a bigger live heap take (docs/performance.md).
const GCPercent = 400

func serve(args []string, stdout, stderr io.Writer) error {
	cfg, err := parseServe(args, stdout)
	if err != nil {
		return err
	}
	log, err := localapp.Logger(context.Background(), stderr, cfg.logLevel)
	if err != nil {
		return err
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(HeapLimit)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(GCPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Listen first: a busy port fails before anything is written to the data dir.
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", cfg.addr, err)
	}
	defer ln.Close()

	app, err := localapp.Open(ctx, cfg.app, log)
	if err != nil {
		return err
	}
	defer app.Close()

	url := "http://" + ln.Addr().String()
	addrFile := filepath.Join(cfg.app.DataDir, AddressFile)
	if err := os.WriteFile(addrFile, []byte(url+"\n"), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", addrFile, err)
	}
	defer os.Remove(addrFile)

	srv := &http.Server{
		Handler:           app.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	workDone := make(chan error, 1)
	go func() { workDone <- app.Run(workCtx) }()

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(rest.ProblemListener(ln, log)) }()
	log.Info("shop listening", "addr", url, "data", cfg.app.DataDir, "storefront", url+"/", "console", url+"/console")
	if cfg.app.DevSignIn {
		log.Warn("development sign-in is on (POST /dev/sign-in): whoever reaches " + url + " can act as any user, admins included; --dev-signin=false turns it off")
	} else {
		log.Info("development sign-in is off: sign in with a token from shop token")
	}

	select {
	case err = <-serveErr:
	case <-ctx.Done():
		log.Info("shutting down: finishing requests and events in flight")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err = srv.Shutdown(shutdownCtx)
		cancel()
	}
	stopWork()
	if werr := <-workDone; werr != nil {
		err = errors.Join(err, werr)
	}
	flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	if ferr := telemetry.Flush(flushCtx); ferr != nil {
		log.Warn("traces or logs not exported", "err", ferr) // the shop's own work is done and safe
	}
	cancel()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("shop stopped")
	return nil
}
