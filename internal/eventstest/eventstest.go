// Package eventstest builds the SQS events consumers receive, and collects the
// events an outbox relays, for tests.
package eventstest

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
)

// Message wraps detail in an EventBridge envelope inside an SQS message with id.
func Message(t testing.TB, id, source, detailType string, detail any) awsevents.SQSMessage {
	t.Helper()
	o, err := events.New(context.Background(), source, detailType, detail, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(o.Wrap("000000000000", "local"))
	if err != nil {
		t.Fatal(err)
	}
	return awsevents.SQSMessage{MessageId: id, Body: string(body), EventSource: "aws:sqs"}
}

// Batch makes an SQS event of msgs.
func Batch(msgs ...awsevents.SQSMessage) awsevents.SQSEvent {
	return awsevents.SQSEvent{Records: msgs}
}

// Failed lists the message ids a response reports as failed.
func Failed(r awsevents.SQSEventResponse) []string {
	var ids []string
	for _, f := range r.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

// Collector is a publisher that keeps what it is given, for reading what an
// outbox relays.
type Collector struct {
	mu  sync.Mutex
	got []events.Outgoing
}

// Publish keeps evts.
func (c *Collector) Publish(_ context.Context, evts []events.Outgoing) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, evts...)
	return nil
}

// Destination names the collector as a bus.
func (c *Collector) Destination() eventbus.Destination {
	return eventbus.Destination{System: eventbus.SystemLocalBus, Name: "eventstest"}
}

// Events returns what was published so far, in order.
func (c *Collector) Events() []events.Outgoing {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.got)
}
