// Package idemtest gives tests an idempotency guard of their own.
package idemtest

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/eventshop/eventshop/internal/idempotency"
	idemsqlite "github.com/eventshop/eventshop/internal/idempotency/sqlite"
	"github.com/eventshop/eventshop/internal/rest"
)

// Guard is an idempotency guard over a SQLite store in a temporary directory.
func Guard(tb testing.TB) rest.Idempotency {
	tb.Helper()
	s, err := idemsqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "idempotency.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return idempotency.NewGuard(s, slog.New(slog.DiscardHandler))
}
