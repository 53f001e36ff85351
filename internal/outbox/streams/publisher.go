// Package streams is the outbox on AWS: DynamoDB Streams hand each write's
// new image, with the events it carries (package outboxitem), to a Publisher
// that sends them to EventBridge, parking what cannot be sent.
package streams

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/eventshop/eventshop/internal/backoff"
	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/outbox/outboxitem"
)

// PutEventsAPI is the part of the EventBridge client the publisher uses.
type PutEventsAPI interface {
	PutEvents(context.Context, *eventbridge.PutEventsInput, ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Parking keeps what the publisher sets aside.
type Parking interface {
	Park(ctx context.Context, p Parked) error
}

// PutEvents' limits: entries per call, and bytes per call as EventBridge
// counts them (EntrySize).
const (
	MaxEntries      = 10
	MaxRequestBytes = 256 * 1024
)

// ParkAfter is how old a stream record may grow while EventBridge keeps
// failing it before the publisher parks it rather than wait longer: well
// inside the stream's 24-hour retention, after which the record would be gone.
const ParkAfter = 20 * time.Hour

// EntrySize is the size EventBridge counts for an entry against
// MaxRequestBytes: 14 bytes for the time, and the UTF-8 bytes of the source,
// the detail-type and the detail.
func EntrySize(source, detailType, detail string) int {
	return 14 + len(source) + len(detailType) + len(detail)
}

// Publisher sends the events on stream records' new images to an event bus.
type Publisher struct {
	api     PutEventsAPI
	bus     string
	sources []string // the only sources it sends
	park    Parking
	log     *slog.Logger
	now     func() time.Time
	backoff backoff.Policy
	margin  time.Duration // kept free before the invocation's deadline
}

// Option changes a Publisher's timing.
type Option func(*Publisher)

// WithBackoff sets the first wait after a retryable failure (1s by default;
// it doubles each time, with jitter, up to max).
func WithBackoff(first, max time.Duration) Option {
	return func(p *Publisher) { p.backoff = backoff.Policy{First: first, Max: max} }
}

// NewPublisher returns a publisher to bus of events from sources, those of
// the service whose table's stream it reads (events.SourcesOf), that parks
// in park what it must set aside, an event from any other source among it:
// whatever may write the table cannot speak for another service.
func NewPublisher(api PutEventsAPI, bus string, sources []string, park Parking, log *slog.Logger, opts ...Option) *Publisher {
	if len(sources) == 0 {
		panic("streams.NewPublisher: no sources: it could publish nothing")
	}
	p := &Publisher{api: api, bus: bus, sources: sources, park: park, log: log, now: time.Now, backoff: backoff.Policy{First: time.Second, Max: 16 * time.Second}, margin: 3 * time.Second}
	for _, o := range opts {
		o(p)
	}
	return p
}

// pending is one event of a stream record on its way to the bus.
type pending struct {
	record int
	entry  types.PutEventsRequestEntry
	event  events.Outgoing
	size   int
	span   eventbus.PublishSpan // ended by send, or when the event cannot be sent
}

// Handle publishes the events of a batch of stream records, at most
// MaxEntries and MaxRequestBytes per PutEvents call. Delivery is at least
// once and in no guaranteed order (a record that failed is retried after
// later ones went through, and EventBridge does not keep order anyway); the
// consumers do not care, because they apply versions and keyed writes.
//
// Failures are of two kinds. What retrying may cure (ThrottlingException,
// InternalFailure, a failed call) is retried with exponential backoff, in
// seconds, while the invocation has time; what is left is reported, with
// every later record, so that the event source retries the stream from there
// (it retries until the record expires; an alarm on the iterator age says so
// long before). What retrying cannot cure (an unreadable outbox, an entry
// EventBridge rejects as malformed or unauthorised, an entry over the size
// limit), and a record older than ParkAfter, is parked with its content and
// logged at error level, and the records after it go on. Only if parking
// fails is such a record reported for a retry.
func (p *Publisher) Handle(ctx context.Context, ev awsevents.DynamoDBEvent) (awsevents.DynamoDBEventResponse, error) {
	var all []pending
	stop := len(ev.Records)
	for i, r := range ev.Records {
		if r.EventName == string(awsevents.DynamoDBOperationTypeRemove) {
			continue // a TTL expiry or a real delete: no events
		}
		av, ok := r.Change.NewImage[outboxitem.Attribute]
		if !ok || av.DataType() != awsevents.DataTypeString {
			continue // a write without events
		}
		evts, err := outboxitem.Decode(av.String())
		if err != nil {
			if perr := p.parkRecord(ctx, ev.Records[i], "unreadable outbox: "+err.Error(), nil, av.String()); perr != nil {
				stop = i
				break
			}
			continue
		}
		for _, e := range evts {
			all = append(all, p.pending(ctx, i, e))
		}
	}
	failedAt := p.publish(ctx, ev.Records, all[:countBefore(all, stop)])
	stop = min(stop, failedAt)
	var resp awsevents.DynamoDBEventResponse
	for _, r := range ev.Records[stop:] {
		resp.BatchItemFailures = append(resp.BatchItemFailures, awsevents.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
	}
	return resp, nil
}

// countBefore counts the entries of records before stop.
func countBefore(all []pending, stop int) int {
	n := 0
	for n < len(all) && all[n].record < stop {
		n++
	}
	return n
}

// pending starts publishing e, as a span of the trace it carries (which it
// then carries on to its consumers).
func (p *Publisher) pending(ctx context.Context, record int, e events.Outgoing) pending {
	span := eventbus.StartPublish(ctx, eventbus.Destination{System: eventbus.SystemEventBridge, Name: p.bus}, &e)
	return pending{record: record, event: e, span: span, size: EntrySize(e.Source, e.DetailType, string(e.Detail)), entry: types.PutEventsRequestEntry{
		EventBusName: aws.String(p.bus),
		Source:       aws.String(e.Source),
		DetailType:   aws.String(e.DetailType),
		Detail:       aws.String(string(e.Detail)),
		Time:         aws.Time(e.Time),
	}}
}

// publish sends all in calls within PutEvents' limits, parks what cannot be
// sent, and returns the first record with an event that still has to be
// retried by the event source, or len(records).
func (p *Publisher) publish(ctx context.Context, records []awsevents.DynamoDBEventRecord, all []pending) int {
	stop := len(records)
	permanent := map[int][]pending{} // by record
	var retry []pending
	var tooLarge []pending
	var sendable []pending
	reasons := map[int]string{}
	for _, e := range all {
		switch {
		case !slices.Contains(p.sources, e.event.Source):
			e.span.Done(ctx, errForeignSource)
			permanent[e.record] = append(permanent[e.record], e)
			reasons[e.record] = fmt.Sprintf("source %q is not one of this table's service's %v: not sent", e.event.Source, p.sources)
			continue
		case e.size > MaxRequestBytes:
			e.span.Done(ctx, errTooLarge)
			tooLarge = append(tooLarge, e)
			continue
		}
		sendable = append(sendable, e)
	}
	for _, e := range tooLarge {
		permanent[e.record] = append(permanent[e.record], e)
	}
	for _, chunk := range chunks(sendable) {
		perm, again := p.send(ctx, chunk)
		for _, e := range perm {
			permanent[e.record] = append(permanent[e.record], e)
		}
		retry = append(retry, again...)
	}
	for rec := range permanent {
		if reasons[rec] == "" {
			reasons[rec] = "EventBridge cannot accept these events; fix the cause and republish"
		}
	}
	for _, e := range retry {
		created := records[e.record].Change.ApproximateCreationDateTime.Time
		if !created.IsZero() && p.now().Sub(created) > ParkAfter {
			permanent[e.record] = append(permanent[e.record], e)
			reasons[e.record] = fmt.Sprintf("still failing after %v, close to the stream's 24-hour retention", ParkAfter)
			continue
		}
		stop = min(stop, e.record)
	}
	for rec, evts := range permanent {
		if rec >= stop {
			continue // the event source will hand it over again
		}
		outgoing := make([]events.Outgoing, len(evts))
		for i, e := range evts {
			outgoing[i] = e.event
		}
		if err := p.parkRecord(ctx, records[rec], reasons[rec], outgoing, ""); err != nil {
			stop = min(stop, rec)
		}
	}
	return stop
}

// chunks splits entries, in order, into PutEvents calls of at most
// MaxEntries entries and MaxRequestBytes bytes.
func chunks(entries []pending) [][]pending {
	var out [][]pending
	var cur []pending
	size := 0
	for _, e := range entries {
		if len(cur) == MaxEntries || (len(cur) > 0 && size+e.size > MaxRequestBytes) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, e)
		size += e.size
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// retryable reports whether an entry's ErrorCode may go away on a retry, as
// EventBridge documents it.
func retryable(code string) bool {
	return code == "ThrottlingException" || code == "InternalFailure"
}

// send puts chunk, retrying what may succeed later, with exponential backoff
// and jitter while the invocation has time. It returns the entries that can
// never go through and those still to retry.
func (p *Publisher) send(ctx context.Context, chunk []pending) (permanent, again []pending) {
	todo := chunk
	for attempt := 1; ; attempt++ {
		in := &eventbridge.PutEventsInput{Entries: make([]types.PutEventsRequestEntry, len(todo))}
		for i, e := range todo {
			in.Entries[i] = e.entry
		}
		out, err := p.api.PutEvents(ctx, in)
		var failed []pending
		switch {
		case err != nil:
			p.log.WarnContext(ctx, "PutEvents failed", "attempt", attempt, "entries", len(todo), "err", err)
			failed = todo
		case len(out.Entries) != len(todo):
			p.log.WarnContext(ctx, "PutEvents answered a different number of entries", "sent", len(todo), "answered", len(out.Entries))
			failed = todo
		default:
			for i, res := range out.Entries {
				code := aws.ToString(res.ErrorCode)
				switch {
				case res.ErrorCode == nil:
					todo[i].span.Done(ctx, nil)
				case retryable(code):
					p.log.WarnContext(ctx, "PutEvents entry failed; retrying", "attempt", attempt, "code", code, "message", aws.ToString(res.ErrorMessage))
					failed = append(failed, todo[i])
				default:
					p.log.ErrorContext(ctx, "PutEvents entry refused", "code", code, "message", aws.ToString(res.ErrorMessage), "eventId", todo[i].event.ID)
					todo[i].span.Done(ctx, fmt.Errorf("refused: %s: %s", code, aws.ToString(res.ErrorMessage)))
					permanent = append(permanent, todo[i])
				}
			}
		}
		if len(failed) == 0 {
			return permanent, nil
		}
		// Shards retrying together must not hit EventBridge together: jitter.
		if !p.hasTime(ctx, p.backoff.Step(attempt)) || p.backoff.Sleep(ctx, attempt) != nil {
			for _, e := range failed {
				e.span.Done(ctx, errRetryLater)
			}
			return permanent, failed
		}
		todo = failed
	}
}

// hasTime reports whether the invocation can wait d and still try once more.
func (p *Publisher) hasTime(ctx context.Context, d time.Duration) bool {
	if ctx.Err() != nil {
		return false
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		return true
	}
	return time.Until(deadline) > d+p.margin
}

func (p *Publisher) parkRecord(ctx context.Context, r awsevents.DynamoDBEventRecord, reason string, evts []events.Outgoing, raw string) error {
	parked := Parked{ID: r.EventSourceArn + "|" + r.Change.SequenceNumber, Reason: reason, ParkedAt: p.now(), Events: evts, Raw: raw, Sources: p.sources}
	if err := p.park.Park(ctx, parked); err != nil {
		p.log.ErrorContext(ctx, "could not park a stream record; it will be retried", "id", parked.ID, "err", err)
		return err
	}
	// The stack's metric filter counts these lines and alarms on them.
	p.log.ErrorContext(ctx, ParkedLogMessage, "id", parked.ID, "reason", reason, "events", len(evts))
	return nil
}

// ParkedLogMessage is the log message of a parked record; the stack's alarm
// counts it.
const ParkedLogMessage = "stream record parked"

var (
	errNotAllPublished = errors.New("some events were not published")
	errTooLarge        = fmt.Errorf("over PutEvents' limit of %d bytes", MaxRequestBytes)
	errForeignSource   = errors.New("a source of another service")
	errRetryLater      = errors.New("still failing when the invocation ran out of time; retried later")
)

// Republish sends the events of every parked record in parking again and
// removes each record once all its events went through. Records kept raw
// (their outbox could not be read) are left for a person to look at. It
// returns how many records it republished and how many it left.
func Republish(ctx context.Context, parking *ParkingTable, p *Publisher) (republished, left int, err error) {
	all, err := parking.All(ctx)
	if err != nil {
		return 0, 0, err
	}
	for _, rec := range all {
		if len(rec.Events) == 0 {
			p.log.WarnContext(ctx, "parked record has no readable events; left for a person", "id", rec.ID, "reason", rec.Reason)
			left++
			continue
		}
		if e, ok := foreign(rec, p.sources); ok {
			p.log.WarnContext(ctx, "parked record holds an event of a source its table may not send; left for a person", "id", rec.ID, "source", e.Source)
			left++
			continue
		}
		if err := p.sendAll(ctx, rec.Events); err != nil {
			p.log.ErrorContext(ctx, "republish failed; the record stays parked", "id", rec.ID, "err", err)
			left++
			continue
		}
		if err := parking.Remove(ctx, rec.ID); err != nil {
			return republished, left, err
		}
		republished++
	}
	return republished, left, nil
}

// foreign is an event of rec from a source neither its own publisher nor
// the republishing one (sources) may send, if it has one.
func foreign(rec Parked, sources []string) (events.Outgoing, bool) {
	for _, e := range rec.Events {
		if !slices.Contains(sources, e.Source) || (len(rec.Sources) > 0 && !slices.Contains(rec.Sources, e.Source)) {
			return e, true
		}
	}
	return events.Outgoing{}, false
}

// sendAll publishes evts within PutEvents' limits, retrying while it has time.
func (p *Publisher) sendAll(ctx context.Context, evts []events.Outgoing) error {
	for _, e := range evts {
		if size := EntrySize(e.Source, e.DetailType, string(e.Detail)); size > MaxRequestBytes {
			return fmt.Errorf("event %s is %d bytes, %w", e.ID, size, errTooLarge)
		}
	}
	var all []pending
	for _, e := range evts {
		all = append(all, p.pending(ctx, 0, e))
	}
	cs := chunks(all)
	for i, chunk := range cs {
		if permanent, again := p.send(ctx, chunk); len(permanent)+len(again) > 0 {
			for _, rest := range cs[i+1:] {
				for _, e := range rest {
					e.span.Done(ctx, errNotAllPublished)
				}
			}
			return errNotAllPublished
		}
	}
	return nil
}
