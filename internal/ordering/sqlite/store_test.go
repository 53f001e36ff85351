package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/eventshop/eventshop/internal/ordering"
	"github.com/eventshop/eventshop/internal/ordering/sqlite"
	"github.com/eventshop/eventshop/internal/ordering/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) ordering.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ordering.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
