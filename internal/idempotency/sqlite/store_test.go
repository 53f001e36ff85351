package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/eventshop/eventshop/internal/idempotency"
	"github.com/eventshop/eventshop/internal/idempotency/sqlite"
	"github.com/eventshop/eventshop/internal/idempotency/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) idempotency.Store {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "idempotency.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
