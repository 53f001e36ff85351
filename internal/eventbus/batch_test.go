package eventbus_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/eventshop/eventshop/internal/correlation"
	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/eventstest"
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
	resp := eventbus.HandleBatch(t.Context(), batch, slog.New(slog.DiscardHandler), func(_ context.Context, env events.Envelope) error {
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
	var mu sync.Mutex // two flows: handled side by side
	got := map[string]string{}
	batch := eventstest.Batch(
		eventstest.Message(t, "with", "src", "T", events.Meta{CorrelationID: "req-42"}),
		eventstest.Message(t, "without", "src", "T", map[string]string{"n": "1"}),
	)
	eventbus.HandleBatch(t.Context(), batch, slog.New(slog.DiscardHandler), func(ctx context.Context, env events.Envelope) error {
		mu.Lock()
		defer mu.Unlock()
		got[string(env.Detail)] = correlation.ID(ctx)
		return nil
	})
	if got[`{"correlationId":"req-42"}`] != "req-42" || got[`{"n":"1"}`] != "" {
		t.Fatalf("correlation ids seen: %v", got)
	}
}

// Messages of one flow (one order) are handled one after the other in
// batch order, flows side by side: a flow whose handler blocks does not hold
// up another, and a flow's second message waits for its first.
func TestHandleBatchRunsFlowsSideBySide(t *testing.T) {
	batch := eventstest.Batch(orderMessage(t, "a1", "a", 1), orderMessage(t, "b1", "b", 1), orderMessage(t, "a2", "a", 2), orderMessage(t, "b2", "b", 2), orderMessage(t, "c1", "", 1), orderMessage(t, "c2", "", 2))
	var mu sync.Mutex
	seen := map[string][]int{}
	bDone := make(chan struct{})
	resp := eventbus.HandleBatch(t.Context(), batch, slog.New(slog.DiscardHandler), func(ctx context.Context, env events.Envelope) error {
		var d orderDetail
		if err := json.Unmarshal(env.Detail, &d); err != nil {
			return err
		}
		if d.OrderID == "a" && d.N == 1 {
			select { // flow a waits until flow b has finished: b must not wait for a
			case <-bDone:
			case <-time.After(5 * time.Second):
				return errors.New("flow b never finished while flow a waited")
			}
		}
		mu.Lock()
		seen[d.OrderID] = append(seen[d.OrderID], d.N)
		if d.OrderID == "b" && len(seen["b"]) == 2 {
			close(bDone)
		}
		mu.Unlock()
		return nil
	})
	if failed := eventstest.Failed(resp); len(failed) > 0 {
		t.Fatalf("failed %v", failed)
	}
	for _, flow := range []string{"a", "b", ""} {
		if !slices.Equal(seen[flow], []int{1, 2}) {
			t.Errorf("flow %q handled %v, want 1 then 2", flow, seen[flow])
		}
	}
}

// Given a flow runner (RunFlows), HandleBatch hands it the batch's flows in the order
// their first messages came, each whole: a runner that runs them one
// after another sees nothing of two flows interleave.
func TestHandleBatchFlowRunner(t *testing.T) {
	batch := eventstest.Batch(orderMessage(t, "b1", "b", 1), orderMessage(t, "a1", "a", 1), orderMessage(t, "b2", "b", 2), orderMessage(t, "c1", "c", 1), orderMessage(t, "a2", "a", 2))
	var handled []string
	inTurn := func(ctx context.Context, flows []func(context.Context)) {
		for _, f := range flows {
			f(ctx)
		}
	}
	resp := eventbus.HandleBatch(t.Context(), batch, slog.New(slog.DiscardHandler), func(ctx context.Context, env events.Envelope) error {
		var d orderDetail
		if err := json.Unmarshal(env.Detail, &d); err != nil {
			return err
		}
		handled = append(handled, fmt.Sprint(d.OrderID, d.N)) // no lock: one goroutine at a time, or -race says so
		return nil
	}, eventbus.RunFlows(inTurn))
	if failed := eventstest.Failed(resp); len(failed) > 0 {
		t.Fatalf("failed %v", failed)
	}
	if want := []string{"b1", "b2", "a1", "a2", "c1"}; !slices.Equal(handled, want) {
		t.Fatalf("handled %v, want %v", handled, want)
	}
}

// A flow is what the contract's key names: one checkout and the order it
// becomes, one product; an event of no contract joins the keyless flow,
// whatever its correlation id.
func TestHandleBatchKeysFlowsByTheContract(t *testing.T) {
	batch := eventstest.Batch(
		eventstest.Message(t, "c", events.SourceCheckout, events.TypeCheckoutBasket, map[string]any{"correlationId": "r1", events.KeyCheckout: "o1"}),
		eventstest.Message(t, "p", events.SourceCatalog, events.TypeProductChanged, map[string]any{"correlationId": "r1", events.KeyProduct: "p1"}),
		eventstest.Message(t, "s", events.SourceOrdering, events.TypeOrderShipped, map[string]any{"correlationId": "r2", events.KeyOrder: "o1"}),
		eventstest.Message(t, "x", "src", "T", map[string]any{"correlationId": "r3"}),
		eventstest.Message(t, "y", events.SourceOrdering, events.TypeOrderShipped, map[string]any{"correlationId": "r4"}),
	)
	var flows [][]string
	record := func(ctx context.Context, fs []func(context.Context)) {
		for _, f := range fs {
			flows = append(flows, nil)
			f(ctx)
		}
	}
	eventbus.HandleBatch(t.Context(), batch, slog.New(slog.DiscardHandler), func(_ context.Context, env events.Envelope) error {
		flows[len(flows)-1] = append(flows[len(flows)-1], env.DetailType)
		return nil
	}, eventbus.RunFlows(record))
	want := [][]string{{events.TypeCheckoutBasket, events.TypeOrderShipped}, {events.TypeProductChanged}, {"T", events.TypeOrderShipped}}
	if fmt.Sprint(flows) != fmt.Sprint(want) {
		t.Fatalf("flows %v, want %v", flows, want)
	}
}

// Every contract names a key its example carries.
func TestEveryContractNamesAKey(t *testing.T) {
	for _, c := range events.Contracts() {
		b, err := json.Marshal(c.Example)
		if err != nil {
			t.Fatal(err)
		}
		var fields map[string]any
		if err := json.Unmarshal(b, &fields); err != nil {
			t.Fatal(err)
		}
		if v, _ := fields[c.Key].(string); c.Key == "" || v == "" {
			t.Errorf("%s: key %q, which its example's detail does not carry", c.DetailType, c.Key)
		}
	}
}

// A consumer's options apply to the copy With makes, and only to it.
func TestConsumerWithRunsItsBatchesAsTold(t *testing.T) {
	var runs int
	counting := func(ctx context.Context, fs []func(context.Context)) {
		runs++
		for _, f := range fs {
			f(ctx)
		}
	}
	handled := 0
	plain := eventbus.NewConsumer(slog.New(slog.DiscardHandler), eventbus.On(func(context.Context, events.OrderShipped) error { handled++; return nil }))
	with := plain.With(eventbus.RunFlows(counting))
	batch := eventstest.Batch(eventstest.Message(t, "s", events.SourceOrdering, events.TypeOrderShipped, map[string]any{events.KeyOrder: "o1"}))
	if _, err := with.Handle(t.Context(), batch); err != nil || runs != 1 || handled != 1 {
		t.Fatalf("with: %v, %d runs, %d handled; want the runner to run the batch", err, runs, handled)
	}
	if _, err := plain.Handle(t.Context(), batch); err != nil || runs != 1 || handled != 2 {
		t.Fatalf("plain: %v, %d runs, %d handled; want the original consumer untouched", err, runs, handled)
	}
}

// orderMessage is the n-th message of one order's flow.
func orderMessage(t *testing.T, id, flow string, n int) awsevents.SQSMessage {
	return eventstest.Message(t, id, events.SourceOrdering, events.TypeOrderShipped, map[string]any{events.KeyOrder: flow, "n": n})
}

// orderDetail is what the flow tests read of an orderMessage.
type orderDetail struct {
	OrderID string `json:"orderId"`
	N       int    `json:"n"`
}
