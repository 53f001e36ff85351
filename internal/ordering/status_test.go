package ordering_test

import (
	"errors"
	"testing"
	"time"

	"github.com/eventshop/eventshop/internal/kind"
	"github.com/eventshop/eventshop/internal/ordering"
)

// Every pair of statuses: exactly the changes of the order's life are allowed.
func TestEveryTransition(t *testing.T) {
	statuses := []string{ordering.StatusPlaced, ordering.StatusReserved, ordering.StatusPaid, ordering.StatusShipped, ordering.StatusCancelled}
	allowed := map[[2]string]bool{
		{ordering.StatusPlaced, ordering.StatusReserved}:    true,
		{ordering.StatusPlaced, ordering.StatusCancelled}:   true,
		{ordering.StatusReserved, ordering.StatusPaid}:      true,
		{ordering.StatusReserved, ordering.StatusCancelled}: true,
		{ordering.StatusPaid, ordering.StatusShipped}:       true,
		{ordering.StatusPaid, ordering.StatusCancelled}:     true,
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	for _, from := range statuses {
		for _, to := range statuses {
			reason := ""
			if to == ordering.StatusCancelled {
				reason = ordering.ReasonCustomerCancelled
			}
			c, err := ordering.Transition(from, to, reason, at)
			if allowed[[2]string{from, to}] {
				if err != nil || c.Status != to || c.Reason != reason || !c.At.Equal(at) || c.At.Location() != time.UTC {
					t.Errorf("%s → %s: %+v, %v; want allowed", from, to, c, err)
				}
				continue
			}
			var terr *ordering.TransitionError
			if !errors.As(err, &terr) || terr.From != from || terr.To != to {
				t.Errorf("%s → %s: %v; want a TransitionError", from, to, err)
			}
			if _, k := kind.Of(err); k != kind.Conflict {
				t.Errorf("%s → %s: kind %v, want conflict (409)", from, to, k)
			}
		}
	}
}

func TestCancelReasons(t *testing.T) {
	at := time.Now()
	for _, r := range ordering.CancelReasons {
		if _, err := ordering.Transition(ordering.StatusPaid, ordering.StatusCancelled, r, at); err != nil {
			t.Errorf("reason %s: %v", r, err)
		}
	}
	for _, bad := range []struct{ to, reason string }{
		{ordering.StatusCancelled, ""},
		{ordering.StatusCancelled, "bored"},
		{ordering.StatusReserved, ordering.ReasonOutOfStock},
	} {
		if _, err := ordering.Transition(ordering.StatusPlaced, bad.to, bad.reason, at); err == nil {
			t.Errorf("PLACED → %s with reason %q was allowed", bad.to, bad.reason)
		}
	}
}

func TestHolds(t *testing.T) {
	history := []ordering.Change{{Status: ordering.StatusPlaced}, {Status: ordering.StatusCancelled}, {Status: ordering.StatusRefunded}}
	for status, want := range map[string]bool{ordering.StatusPlaced: true, ordering.StatusRefunded: true, ordering.StatusPaid: false, ordering.StatusPaymentCaptured: false} {
		if got := ordering.Holds(history, status); got != want {
			t.Errorf("Holds(%s) = %v, want %v", status, got, want)
		}
	}
}
