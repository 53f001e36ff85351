package streams

import (
	"context"
	"log/slog"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

// PutEventsAPI is the part of the EventBridge client the publisher uses.
type PutEventsAPI interface {
	PutEvents(context.Context, *eventbridge.PutEventsInput, ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// MaxEntries is PutEvents' limit on entries per call.
const MaxEntries = 10

// Publisher sends the events on stream records' new images to an event bus.
type Publisher struct {
	api      PutEventsAPI
	bus      string
	log      *slog.Logger
	attempts int
	backoff  time.Duration
}

// NewPublisher returns a publisher to bus.
func NewPublisher(api PutEventsAPI, bus string, log *slog.Logger) *Publisher {
	return &Publisher{api: api, bus: bus, log: log, attempts: 3, backoff: 50 * time.Millisecond}
}

type entry struct {
	record int
	entry  types.PutEventsRequestEntry
}

// Handle publishes the events of a batch of stream records in order, at most
// MaxEntries per PutEvents call, retrying failed entries a few times. When an
// entry still fails, or a record's outbox cannot be read, it reports that
// record and every later one as failed, so that the stream retries from there
// and events keep their order; earlier records are done. An entry with an
// ErrorCode is a failure even when the call itself succeeded.
func (p *Publisher) Handle(ctx context.Context, ev awsevents.DynamoDBEvent) (awsevents.DynamoDBEventResponse, error) {
	entries, stop := p.collect(ctx, ev)
	for start := 0; start < len(entries); start += MaxEntries {
		chunk := entries[start:min(start+MaxEntries, len(entries))]
		if failed := p.send(ctx, chunk); failed >= 0 {
			stop = min(stop, failed)
			break
		}
	}
	var resp awsevents.DynamoDBEventResponse
	for _, r := range ev.Records[stop:] {
		resp.BatchItemFailures = append(resp.BatchItemFailures, awsevents.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
	}
	return resp, nil
}

// collect turns records into entries, up to the first record whose outbox it
// cannot read; it returns that record's index, or len(ev.Records).
func (p *Publisher) collect(ctx context.Context, ev awsevents.DynamoDBEvent) ([]entry, int) {
	var entries []entry
	for i, r := range ev.Records {
		if r.EventName == string(awsevents.DynamoDBOperationTypeRemove) {
			continue // a TTL expiry or a real delete: no events
		}
		av, ok := r.Change.NewImage[Attribute]
		if !ok || av.DataType() != awsevents.DataTypeString {
			continue // a write without events
		}
		evts, err := Decode(av.String())
		if err != nil {
			p.log.ErrorContext(ctx, "unreadable outbox", "sequenceNumber", r.Change.SequenceNumber, "err", err)
			return entries, i
		}
		for _, e := range evts {
			entries = append(entries, entry{record: i, entry: types.PutEventsRequestEntry{
				EventBusName: aws.String(p.bus),
				Source:       aws.String(e.Source),
				DetailType:   aws.String(e.DetailType),
				Detail:       aws.String(string(e.Detail)),
				Time:         aws.Time(e.Time),
			}})
		}
	}
	return entries, len(ev.Records)
}

// send puts chunk, retrying what fails; it returns the first record with an
// entry that never went through, or -1.
func (p *Publisher) send(ctx context.Context, chunk []entry) int {
	pending := chunk
	for attempt := 1; ; attempt++ {
		in := &eventbridge.PutEventsInput{Entries: make([]types.PutEventsRequestEntry, len(pending))}
		for i, e := range pending {
			in.Entries[i] = e.entry
		}
		out, err := p.api.PutEvents(ctx, in)
		var failed []entry
		switch {
		case err != nil:
			p.log.WarnContext(ctx, "PutEvents failed", "attempt", attempt, "entries", len(pending), "err", err)
			failed = pending
		case len(out.Entries) != len(pending):
			p.log.WarnContext(ctx, "PutEvents answered a different number of entries", "sent", len(pending), "answered", len(out.Entries))
			failed = pending
		default:
			for i, res := range out.Entries {
				if res.ErrorCode != nil {
					p.log.WarnContext(ctx, "PutEvents entry failed", "attempt", attempt, "code", aws.ToString(res.ErrorCode), "message", aws.ToString(res.ErrorMessage))
					failed = append(failed, pending[i])
				}
			}
		}
		if len(failed) == 0 {
			return -1
		}
		if attempt == p.attempts || ctx.Err() != nil {
			return failed[0].record
		}
		pending = failed
		select {
		case <-ctx.Done():
		case <-time.After(p.backoff << (attempt - 1)):
		}
	}
}
