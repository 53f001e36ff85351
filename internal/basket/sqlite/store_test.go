package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/eventshop/eventshop/internal/basket"
	"github.com/eventshop/eventshop/internal/basket/sqlite"
	"github.com/eventshop/eventshop/internal/basket/storetest"
)

func open(t *testing.T) *sqlite.Store {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "basket.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) basket.Store { return open(t) })
}

func TestPriceKeepingContract(t *testing.T) {
	storetest.RunPriceKeeping(t, func(t *testing.T) storetest.PriceKeeping { return open(t) })
}

func TestPriceViewContract(t *testing.T) {
	storetest.RunPriceView(t, func(t *testing.T) basket.PriceView { return open(t) })
	// Not RunContendedPriceView: SQLite's writers take the database's one
	// write lock in turn, so no write meets a transaction in flight.
}
