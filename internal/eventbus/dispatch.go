package eventbus

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sync"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/eventshop/eventshop/internal/events"
)

// Handler handles the events of one detail-type.
type Handler struct {
	DetailType string
	handle     func(context.Context, events.Envelope) error
}

// On is the handler of the events whose detail is a T, one of the contracts'
// detail types: each event's detail is decoded into a T and given to h. The
// detail-type comes from the contract, so a handler cannot be filed under
// another event's name.
func On[T any](h func(context.Context, T) error) Handler {
	t := reflect.TypeFor[T]()
	dt, ok := detailTypes()[t]
	if !ok {
		panic(fmt.Sprintf("eventbus.On: %v is the detail of no contract", t))
	}
	return Handler{DetailType: dt, handle: func(ctx context.Context, env events.Envelope) error {
		var d T
		if err := events.DecodeDetail(env, &d); err != nil {
			return err
		}
		return h(ctx, d)
	}}
}

// detailTypes maps each contract's detail type to its detail-type.
var detailTypes = sync.OnceValue(func() map[reflect.Type]string {
	m := map[reflect.Type]string{}
	for _, c := range events.Contracts() {
		m[reflect.TypeOf(c.Example)] = c.DetailType
	}
	return m
})

// Consumer is a service's SQS batch handler, the same on the local bus and
// on Lambda: each message goes to the handler of its detail-type
// (HandleBatch says how a batch is run and what fails); an event of a type
// it has no handler for is logged and dropped.
type Consumer struct {
	log      *slog.Logger
	handlers map[string]func(context.Context, events.Envelope) error
	opts     []BatchOption
}

// NewConsumer returns the consumer of the events hs handle; two handlers of
// one detail-type are a programming error, and panic.
func NewConsumer(log *slog.Logger, hs ...Handler) *Consumer {
	c := &Consumer{log: log, handlers: make(map[string]func(context.Context, events.Envelope) error, len(hs))}
	for _, h := range hs {
		if _, dup := c.handlers[h.DetailType]; dup {
			panic("eventbus.NewConsumer: two handlers of " + h.DetailType)
		}
		c.handlers[h.DetailType] = h.handle
	}
	return c
}

// With returns c running its batches as opts say.
func (c *Consumer) With(opts ...BatchOption) *Consumer {
	with := *c
	with.opts = append(slices.Clone(c.opts), opts...)
	return &with
}

// Handle runs a batch: the function a Lambda SQS event source calls.
func (c *Consumer) Handle(ctx context.Context, ev awsevents.SQSEvent) (awsevents.SQSEventResponse, error) {
	return HandleBatch(ctx, ev, c.log, c.dispatch, c.opts...), nil
}

// HandleReporting is Handle, telling report why each message it fails
// failed (ReportFailures): the function the local bus calls.
func (c *Consumer) HandleReporting(ctx context.Context, ev awsevents.SQSEvent, report func(messageID string, err error)) (awsevents.SQSEventResponse, error) {
	return HandleBatch(ctx, ev, c.log, c.dispatch, append(slices.Clone(c.opts), ReportFailures(report))...), nil
}

func (c *Consumer) dispatch(ctx context.Context, env events.Envelope) error {
	h, ok := c.handlers[env.DetailType]
	if !ok {
		c.log.WarnContext(ctx, "ignoring event of unknown type", "detailType", env.DetailType, "eventId", env.ID)
		return nil
	}
	return h(ctx, env)
}

// DetailTypes lists the detail-types c handles, sorted.
func (c *Consumer) DetailTypes() []string {
	dts := make([]string, 0, len(c.handlers))
	for dt := range c.handlers {
		dts = append(dts, dt)
	}
	slices.Sort(dts)
	return dts
}
