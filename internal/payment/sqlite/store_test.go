package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/eventshop/eventshop/internal/payment"
	"github.com/eventshop/eventshop/internal/payment/sqlite"
	"github.com/eventshop/eventshop/internal/payment/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) payment.Store {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "payment.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
