// Command shop runs eventshop on one machine: every service, SQLite stores and
// a durable local event bus in one process.
//
//	shop serve [--addr 127.0.0.1:8080] [--data ./data] [--demo=true]
//	shop token --user NAME [--admin] [--ttl 1h] [--data ./data]
//	shop dlq   [--data ./data] list|redrive QUEUE
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/eventshop/eventshop/internal/auth/localjwt"
	"github.com/eventshop/eventshop/internal/correlation"
	"github.com/eventshop/eventshop/internal/localapp"
)

const usage = `usage:
  shop serve [--addr HOST:PORT] [--data DIR] [--demo=false]   run the shop
  shop token --user NAME [--admin] [--ttl 1h] [--data DIR]    print a token the shop accepts
  shop dlq [--data DIR] list QUEUE                            show a queue's dead letters
  shop dlq [--data DIR] redrive QUEUE                         move them back to QUEUE
`

func main() {
	log := slog.New(correlation.LogHandler{Handler: slog.NewJSONHandler(os.Stderr, nil)})
	if err := run(os.Args[1:], os.Stdout, log); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		log.Error("shop failed", "err", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer, log *slog.Logger) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], log)
	case "token":
		return token(args[1:], stdout)
	case "dlq":
		return dlq(args[1:], stdout, log)
	default:
		fmt.Fprintf(os.Stderr, "unknown command %q\n%s", args[0], usage)
		return flag.ErrHelp
	}
}

type serveConfig struct {
	addr string
	app  localapp.Config
}

func parseServe(args []string) (serveConfig, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var c serveConfig
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&c.app.DataDir, "data", "./data", "directory for the shop's databases")
	fs.BoolVar(&c.app.Demo, "demo", true, "load the demo catalog into an empty catalog")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("serve takes no arguments, got %q", fs.Args())
	}
	if _, _, err := net.SplitHostPort(c.addr); err != nil {
		return c, fmt.Errorf("--addr %q: %w", c.addr, err)
	}
	if c.app.DataDir == "" {
		return c, errors.New("--data must not be empty")
	}
	return c, nil
}

func serve(args []string, log *slog.Logger) error {
	cfg, err := parseServe(args)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	app, err := localapp.Open(ctx, cfg.app, log)
	if err != nil {
		return err
	}
	defer app.Close()

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           app.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	workDone := make(chan error, 1)
	go func() { workDone <- app.Run(workCtx) }()

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("shop listening", "addr", "http://"+ln.Addr().String(), "data", cfg.app.DataDir)

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
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("shop stopped")
	return nil
}

func token(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	user := fs.String("user", "", "user name the token is for (required)")
	admin := fs.Bool("admin", false, "put the user in the admin group")
	ttl := fs.Duration("ttl", time.Hour, "how long the token is valid")
	data := fs.String("data", "./data", "directory for the shop's databases and signing key")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *user == "" || fs.NArg() > 0 {
		fmt.Fprint(os.Stderr, usage)
		return flag.ErrHelp
	}
	keys, err := localjwt.LoadOrCreate(*data)
	if err != nil {
		return err
	}
	tok, err := keys.Issue(*user, *admin, *ttl, time.Now())
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

func dlq(args []string, stdout io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("dlq", flag.ContinueOnError)
	var cfg localapp.Config
	fs.StringVar(&cfg.DataDir, "data", "./data", "directory for the shop's databases")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fmt.Fprint(os.Stderr, usage)
		return flag.ErrHelp
	}
	ctx := context.Background()
	app, err := localapp.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer app.Close()
	queue := fs.Arg(1)
	switch fs.Arg(0) {
	case "list":
		letters, err := app.Bus().DeadLetters(ctx, queue)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(stdout)
		for _, l := range letters {
			if err := enc.Encode(l); err != nil {
				return err
			}
		}
		return nil
	case "redrive":
		n, err := app.Bus().Redrive(ctx, queue)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "moved %d messages back to %s\n", n, queue)
		return nil
	default:
		fmt.Fprint(os.Stderr, usage)
		return flag.ErrHelp
	}
}
