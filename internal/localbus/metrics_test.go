package localbus_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/localbus"
	"github.com/eventshop/eventshop/internal/telemetry/metrictest"
	"github.com/eventshop/eventshop/internal/waittest"
)

// counted sums the int64 counter name's points for queue.
func counted(t *testing.T, name, queue string) int64 {
	return metrictest.Counted(t, name, "messaging.destination.name", queue)
}

// A message moved to the dead-letter queue is counted once, by its queue.
func TestDeadLetteringIsCounted(t *testing.T) {
	before := counted(t, "eventshop.messages.dead_lettered", "qa")
	b := newBus(t)
	rec := recorder{fail: func(awsevents.SQSMessage, int) bool { return true }}
	if err := b.Publish(t.Context(), []events.Outgoing{event(t, "src.a", "X", "1")}); err != nil {
		t.Fatal(err)
	}
	stop := consume(t, b, "qa", rec.handle)
	waittest.For(t, "dead letter", func() bool { return depth(t, b, "qa-dlq") == 1 })
	stop()
	if got := counted(t, "eventshop.messages.dead_lettered", "qa") - before; got != 1 {
		t.Fatalf("dead-lettered counter moved by %d, want 1", got)
	}
}

// A message a consumer holds counts as in flight until it is settled.
func TestStatsCountMessagesInFlight(t *testing.T) {
	b := newBus(t)
	if err := b.Publish(t.Context(), []events.Outgoing{event(t, "src.a", "X", "1"), event(t, "src.a", "X", "2")}); err != nil {
		t.Fatal(err)
	}
	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	stop := consume(t, b, "qa", func(context.Context, awsevents.SQSEvent, func(string, error)) (awsevents.SQSEventResponse, error) {
		once.Do(func() { close(held) })
		<-release
		return awsevents.SQSEventResponse{}, nil
	})
	<-held
	stats, err := b.Stats(t.Context())
	close(release)
	stop()
	if err != nil || stats[0].Queue != "qa" || stats[0].Messages != 2 || stats[0].InFlight != 2 {
		t.Fatalf("Stats while a batch of 2 is held = %+v, %v; want 2 messages, 2 in flight", stats, err)
	}
	if stats, err = b.Stats(t.Context()); err != nil || stats[0].Messages != 0 || stats[0].InFlight != 0 {
		t.Fatalf("Stats once settled = %+v, %v", stats, err)
	}
}

// A new watcher is shown the latest FeedRecent events, oldest first, then
// each event as the bus takes it.
func TestWatchShowsTheLatestThenTheLive(t *testing.T) {
	b := newBus(t)
	if err := b.Publish(t.Context(), []events.Outgoing{event(t, "src.a", "X", "first"), event(t, "src.a", "X", "second")}); err != nil {
		t.Fatal(err)
	}
	if recent, _, stop := b.Watch(); len(recent) != 2 || !strings.Contains(string(recent[1].Envelope), `"n":"second"`) {
		t.Fatalf("after two events a watcher is shown %d: %v", len(recent), recent)
	} else {
		stop()
	}
	var evts []events.Outgoing
	for i := range localbus.FeedRecent + 50 {
		evts = append(evts, event(t, "src.a", "X", fmt.Sprint(i)))
	}
	if err := b.Publish(t.Context(), evts); err != nil {
		t.Fatal(err)
	}
	recent, live, stop := b.Watch()
	defer stop()
	if len(recent) != localbus.FeedRecent || !strings.Contains(string(recent[0].Envelope), `"n":"50"`) ||
		!strings.Contains(string(recent[len(recent)-1].Envelope), fmt.Sprintf(`"n":"%d"`, localbus.FeedRecent+49)) {
		t.Fatalf("%d recent events, first %s", len(recent), recent[0].Envelope)
	}
	if err := b.Publish(t.Context(), []events.Outgoing{event(t, "src.b", "Unrouted", "live")}); err != nil {
		t.Fatal(err)
	}
	if p := <-live; !strings.Contains(string(p.Envelope), `"n":"live"`) || len(p.Queues) != 0 {
		t.Fatalf("live event %s to %v, want the unrouted one to no queue", p.Envelope, p.Queues)
	}
}
