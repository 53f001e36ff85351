package app_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/eventshop/eventshop/internal/inventory"
	"github.com/eventshop/eventshop/internal/inventory/app"
	"github.com/eventshop/eventshop/internal/inventory/sqlite"
	"github.com/eventshop/eventshop/internal/validation"
)

func TestSetAvailableBounds(t *testing.T) {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "inventory.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a := app.New(s)
	if _, err := a.Announce(t.Context(), app.AnnounceProduct{ProductID: "p1", Version: 1}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		available int
		version   int64
		field     string
	}{
		{0, 0, ""}, {inventory.MaxAvailable, 0, ""}, {-1, 0, "available"}, {inventory.MaxAvailable + 1, 0, "available"}, {1, -1, "version"},
	} {
		_, err := a.SetAvailable(t.Context(), "p1", tt.available, tt.version)
		var verr *validation.Error
		if (tt.field == "") != (err == nil) || (err != nil && (!errors.As(err, &verr) || verr.Field != tt.field)) {
			t.Errorf("SetAvailable(%d, %d) = %v, want field %q", tt.available, tt.version, err, tt.field)
		}
	}
	var verr *validation.Error
	if _, err := a.Get(t.Context(), "a/b"); !errors.As(err, &verr) {
		t.Errorf("Get with a bad id: %v", err)
	}
	if _, err := a.Announce(t.Context(), app.AnnounceProduct{ProductID: ""}); !errors.As(err, &verr) {
		t.Errorf("Announce without an id: %v", err)
	}
	if _, err := a.Get(t.Context(), "never"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("Get of an unknown product: %v", err)
	}
}
