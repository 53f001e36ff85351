package awssim

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/outbox/outboxitem"
	"github.com/eventshop/eventshop/internal/outbox/streams"
)

const (
	account = "123456789012"
	region  = "us-east-1"
)

// eventBridge is the bus: PutEvents with its limits, each accepted entry in
// EventBridge's envelope, routed by the rules of package events (matched by
// the project's pattern matcher) to their queues.
type eventBridge struct{ sim *Sim }

// PutEvents implements streams.PutEventsAPI.
func (e *eventBridge) PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	s := e.sim
	s.sched.park(ctx, "PutEvents")
	if err := s.before(ctx, "PutEvents", in); err != nil {
		return nil, err
	}
	size := 0
	for _, en := range in.Entries {
		size += streams.EntrySize(aws.ToString(en.Source), aws.ToString(en.DetailType), aws.ToString(en.Detail))
	}
	if len(in.Entries) > streams.MaxEntries || size > streams.MaxRequestBytes {
		s.broken(fmt.Errorf("PutEvents over its limits: %d entries, %d bytes", len(in.Entries), size))
		return nil, &smithy.GenericAPIError{Code: "ValidationException", Message: "over the limits"}
	}
	out := &eventbridge.PutEventsOutput{}
	for _, en := range in.Entries {
		if code := s.entryFault(); code != "" {
			out.FailedEntryCount++
			out.Entries = append(out.Entries, ebtypes.PutEventsResultEntry{ErrorCode: aws.String(code), ErrorMessage: aws.String("injected by awssim")})
			continue
		}
		s.seq++
		id := "ev" + strconv.Itoa(s.seq)
		env := events.Outgoing{ID: id, Source: aws.ToString(en.Source), DetailType: aws.ToString(en.DetailType),
			Detail: json.RawMessage(aws.ToString(en.Detail)), Time: s.clock()}.Wrap(account, region)
		body, err := json.Marshal(env)
		if err != nil {
			return nil, err
		}
		if err := s.schemas.Envelope(body); err != nil {
			s.broken(fmt.Errorf("an event broke its schema: %w", err))
		}
		for _, q := range s.queues {
			if q.rule.Pattern.Matches(body) {
				s.trace("route %s %s %s → %s", id, env.DetailType, orderOf(env.Detail), q.rule.Queue)
				q.send(string(body))
			}
		}
		out.Entries = append(out.Entries, ebtypes.PutEventsResultEntry{EventId: aws.String(id)})
	}
	if err := s.after(ctx, "PutEvents"); err != nil {
		return nil, err
	}
	return out, nil
}

// orderOf names the order or product an event's detail is about, for the trace.
func orderOf(detail json.RawMessage) string {
	var d struct{ OrderID, CheckoutID, ProductID string }
	_ = json.Unmarshal(detail, &d)
	switch {
	case d.OrderID != "":
		return "order " + d.OrderID
	case d.CheckoutID != "":
		return "order " + d.CheckoutID
	}
	return "product " + d.ProductID
}

// message is an SQS message.
type message struct {
	id        string
	body      string
	receives  int
	visibleAt int64 // virtual milliseconds
}

// queue is a rule's SQS queue with its dead-letter queue, read by its
// consumer through an event source mapping: batches of the rule's size,
// partial batch responses, a visibility timeout, and a message moved to the
// dead-letter queue when it is received after MaxReceives receives.
type queue struct {
	sim     *Sim
	rule    eventbus.Rule
	fn      string // the consumer
	handler func(context.Context, awsevents.SQSEvent) (awsevents.SQSEventResponse, error)
	msgs    []*message
	dead    []*message
	polling int // batches in flight
}

// send enqueues body as EventBridge's delivery does: at least once (the plan
// may deliver it twice) and after a delay the plan may choose (reordering).
func (q *queue) send(body string) {
	s := q.sim
	if s.cfg.Lose != nil && s.cfg.Lose(q.rule.Queue, strings.Fields(summary(body))[0]) {
		s.trace("lost (not an AWS fault): %s on %s", summary(body), q.rule.Queue)
		return
	}
	copies := 1
	if s.chance(s.plan.Duplicate) {
		copies = 2
		s.count("duplicate delivery")
	}
	for range copies {
		s.seq++
		m := &message{id: "m" + strconv.Itoa(s.seq), body: body, visibleAt: s.now}
		if s.chance(s.plan.Delay) {
			m.visibleAt += s.rand.Int64N(maxDelay.Milliseconds())
			s.count("delayed delivery")
		}
		q.msgs = append(q.msgs, m)
	}
}

// visible lists the messages a receive may return now.
func (q *queue) visible() []*message {
	var out []*message
	for _, m := range q.msgs {
		if m.visibleAt <= q.sim.now {
			out = append(out, m)
		}
	}
	return out
}

// poll receives a batch, in an order the plan shuffles, and invokes the
// consumer with it: what it reports as failed, or the whole batch if the
// invocation failed, comes back after the visibility timeout.
func (q *queue) poll(ctx context.Context) {
	s := q.sim
	ready := q.visible()
	s.rand.Shuffle(len(ready), func(i, j int) { ready[i], ready[j] = ready[j], ready[i] })
	var batch []*message
	for _, m := range ready {
		if len(batch) == q.rule.BatchSize {
			break
		}
		if m.receives >= q.rule.MaxReceives {
			q.remove(m)
			q.dead = append(q.dead, m)
			s.trace("dead letter %s on %s: %s", m.id, q.rule.Queue, summary(m.body))
			continue
		}
		m.receives++
		m.visibleAt = s.now + q.rule.VisibilityTimeout().Milliseconds()
		batch = append(batch, m)
	}
	if len(batch) == 0 {
		return
	}
	q.polling++
	defer func() { q.polling-- }()
	ev := awsevents.SQSEvent{}
	for _, m := range batch {
		ev.Records = append(ev.Records, awsevents.SQSMessage{
			MessageId: m.id, Body: m.body, EventSource: "aws:sqs", AWSRegion: region,
			Attributes: map[string]string{"ApproximateReceiveCount": strconv.Itoa(m.receives)},
		})
		s.trace("deliver %s to %s: %s", m.id, q.fn, summary(m.body))
	}
	out, err := s.invoke(ctx, q.fn, ev, func(ctx context.Context, fails bool) (any, error) {
		if fails {
			var all awsevents.SQSEventResponse
			for _, m := range ev.Records {
				all.BatchItemFailures = append(all.BatchItemFailures, awsevents.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
			}
			return all, nil
		}
		return q.handler(ctx, ev)
	})
	resp, _ := out.(awsevents.SQSEventResponse)
	if err != nil {
		for _, m := range batch { // the whole batch comes back
			s.trace("%s failed (%v): %s comes back: %s", q.fn, err, m.id, summary(m.body))
		}
		return
	}
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	for _, m := range batch {
		if !failed[m.id] {
			q.remove(m)
		} else {
			s.trace("%s reported %s failed: %s", q.fn, m.id, summary(m.body))
		}
	}
}

func (q *queue) remove(m *message) {
	for i, x := range q.msgs {
		if x == m {
			q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
			return
		}
	}
}

// summary is an envelope's detail-type and what it is about.
func summary(body string) string {
	var e struct {
		DetailType string          `json:"detail-type"`
		Detail     json.RawMessage `json:"detail"`
	}
	_ = json.Unmarshal([]byte(body), &e)
	return e.DetailType + " " + orderOf(e.Detail)
}

// poll hands the stream's next records to its publisher as the event
// source does: only records whose new image has an outbox (the stack's
// filter), up to the batch size, retried from the first record the
// publisher reports failed, the batch halved after a failed invocation
// (BisectBatchOnError), with no retry limit (the stream's 24 hours are not
// modelled: nothing expires).
func (st *stream) poll(ctx context.Context, s *Sim, publisher *streams.Publisher) {
	for st.pos < len(st.records) && !hasOutbox(st.records[st.pos]) {
		st.pos++
	}
	var batch []awsevents.DynamoDBEventRecord
	var at []int
	for i := st.pos; i < len(st.records) && len(batch) < st.batch; i++ {
		if hasOutbox(st.records[i]) {
			batch = append(batch, st.records[i])
			at = append(at, i)
		}
	}
	if len(batch) == 0 {
		st.pos = len(st.records)
		return
	}
	st.busy = true // one batch of a shard at a time
	defer func() { st.busy = false }()
	s.trace("stream %s: %d records from %s to %s", st.table, len(batch), batch[0].Change.SequenceNumber, st.publisher)
	in := awsevents.DynamoDBEvent{Records: batch}
	out, err := s.invoke(ctx, st.publisher, in, func(ctx context.Context, fails bool) (any, error) {
		if fails {
			var all awsevents.DynamoDBEventResponse
			for _, r := range batch {
				all.BatchItemFailures = append(all.BatchItemFailures, awsevents.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
			}
			return all, nil
		}
		return publisher.Handle(ctx, in)
	})
	resp, _ := out.(awsevents.DynamoDBEventResponse)
	if err != nil {
		st.batch = max(1, st.batch/2)
		s.trace("%s failed: %v; the batch comes again, halved", st.publisher, err)
		return
	}
	st.batch = streamBatchSize
	next := at[len(at)-1] + 1
	if len(resp.BatchItemFailures) > 0 {
		first := resp.BatchItemFailures[0].ItemIdentifier
		for j, r := range batch {
			if r.Change.SequenceNumber == first {
				next = at[j]
				break
			}
		}
		s.trace("%s reported %s failed: the stream resumes there", st.publisher, first)
	}
	st.pos = next
}

// streamBatchSize is the publishers' event sources' batch size (infra/stack.go).
const streamBatchSize = 100

func hasOutbox(r awsevents.DynamoDBEventRecord) bool {
	if r.EventName == string(awsevents.DynamoDBOperationTypeRemove) {
		return false
	}
	_, ok := r.Change.NewImage[outboxitem.Attribute]
	return ok
}
