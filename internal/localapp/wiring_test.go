package localapp

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/services"
)

// TestEveryServiceIsWired opens the local shop and checks that each service
// that publishes events has its outbox relayed, and that each event is
// handled by every consumer a rule routes it to, and only routed to
// consumers that handle it: a detail-type added to a rule but not to the
// consumer's handlers (or the other way round) fails here, naming both.
func TestEveryServiceIsWired(t *testing.T) {
	a, err := Open(t.Context(), Config{DataDir: t.TempDir()}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()

	relayed := map[string]bool{}
	for _, ob := range a.outboxes() {
		relayed[ob.service] = true
	}
	routed := map[string][]string{} // consumer service → detail-types routed to it
	for _, c := range events.Contracts() {
		if !slices.Contains(services.Names(), c.Publisher) || !relayed[c.Publisher] {
			t.Errorf("%s is published by %q, which has no outbox relayed in the local shop", c.DetailType, c.Publisher)
		}
		o, err := events.New(context.Background(), c.Source, c.DetailType, c.Example, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		envelope, err := json.Marshal(o.Wrap("123456789012", "eu-west-1"))
		if err != nil {
			t.Fatal(err)
		}
		reached := false
		for _, r := range eventbus.Rules() {
			if !r.Pattern.Matches(envelope) {
				continue
			}
			reached = true
			routed[r.Consumer] = append(routed[r.Consumer], c.DetailType)
			if !slices.Contains(a.consumers[r.Consumer].DetailTypes(), c.DetailType) {
				t.Errorf("rule %s routes %s to %s's consumer, which has no handler for it", r.Name, c.DetailType, r.Consumer)
			}
		}
		if !reached {
			t.Errorf("no rule routes %s: give it one, or take it out of the contracts", c.DetailType)
		}
	}
	for service, c := range a.consumers {
		for _, dt := range c.DetailTypes() {
			if !slices.Contains(routed[service], dt) {
				t.Errorf("%s's consumer handles %s, which no rule routes to it", service, dt)
			}
		}
	}
}
