package events_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"testing"

	"github.com/eventshop/eventshop/internal/correlation"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/events/eventstest"
)

func TestHandleBatchFailsOnlyWhatFailed(t *testing.T) {
	var handled []string
	batch := eventstest.Batch(
		eventstest.Message(t, "ok1", "src", "Fine", map[string]string{"n": "1"}),
		eventstest.Message(t, "boom", "src", "Panic", map[string]string{"n": "2"}),
		eventstest.Message(t, "err", "src", "Error", map[string]string{"n": "3"}),
		eventstest.Message(t, "ok2", "src", "Fine", map[string]string{"n": "4"}),
	)
	batch.Records = append(batch.Records, batch.Records[0])
	batch.Records[4].MessageId, batch.Records[4].Body = "garbage", "not an envelope"
	resp := events.HandleBatch(t.Context(), batch, slog.New(slog.DiscardHandler), func(_ context.Context, env events.Envelope) error {
		switch env.DetailType {
		case "Panic":
			var lines []string
			_ = lines[len(env.ID)] // out of range: a real bug, not a deliberate panic("...")
		case "Error":
			return errors.New("store down")
		}
		handled = append(handled, env.ID)
		return nil
	})
	if got := eventstest.Failed(resp); !slices.Equal(got, []string{"boom", "err", "garbage"}) {
		t.Fatalf("failed %v, want boom, err and garbage only", got)
	}
	if len(handled) != 2 {
		t.Fatalf("handled %d good messages, want both", len(handled))
	}
}

// The correlation id an event carries reaches its handler's context; an
// event without one leaves the context without one.
func TestHandleBatchCarriesTheCorrelationID(t *testing.T) {
	got := map[string]string{}
	batch := eventstest.Batch(
		eventstest.Message(t, "with", "src", "T", events.Meta{CorrelationID: "req-42"}),
		eventstest.Message(t, "without", "src", "T", map[string]string{"n": "1"}),
	)
	events.HandleBatch(t.Context(), batch, slog.New(slog.DiscardHandler), func(ctx context.Context, env events.Envelope) error {
		got[string(env.Detail)] = correlation.ID(ctx)
		return nil
	})
	if got[`{"correlationId":"req-42"}`] != "req-42" || got[`{"n":"1"}`] != "" {
		t.Fatalf("correlation ids seen: %v", got)
	}
}
