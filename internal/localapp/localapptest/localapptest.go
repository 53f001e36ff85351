// Package localapptest starts the whole local shop in a test: in-process,
// served by an httptest server, with the relays and the bus timed for tests.
package localapptest

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/eventshop/eventshop/internal/auth/localjwt"
	"github.com/eventshop/eventshop/internal/localapp"
	"github.com/eventshop/eventshop/internal/localbus"
	"github.com/eventshop/eventshop/internal/waittest"
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
