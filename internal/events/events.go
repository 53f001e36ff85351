// Package events is the one definition of eventshop's events: their sources,
// detail-types and payloads, the EventBridge envelope they travel in, and the
// rules that route them to queues. The local bus and the AWS stack both read it.
package events

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	jsonv2 "github.com/go-json-experiment/json"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventshop/eventshop/internal/correlation"
	"github.com/eventshop/eventshop/internal/money"
)

// BusName is the event bus every service publishes to.
const BusName = "SwnEventBus"

// Sources and detail-types.
const (
	SourceCatalog  = "com.swn.catalog.product"
	SourceCheckout = "com.swn.basket.checkoutbasket" // as in the seed

	TypeProductChanged = "ProductChanged"
	TypeProductDeleted = "ProductDeleted"
	TypeCheckoutBasket = "CheckoutBasket" // as in the seed
)

// The payment methods a checkout may name (CheckoutBasket.PaymentMethod):
// the payment service's provider takes them, and the simulator declines
// PaymentTestDecline.
const (
	PaymentInvoice      = "invoice"
	PaymentBankTransfer = "bank-transfer"
	PaymentTestDecline  = "test-decline"
)

// PaymentMethods lists them.
var PaymentMethods = []string{PaymentInvoice, PaymentBankTransfer, PaymentTestDecline}

// Meta is carried by every payload so that a request can be followed through
// the events it causes. An EventBridge envelope has no headers, so the W3C
// trace context of the span that caused the event rides here, and the
// consumer continues that trace (see HandleBatch).
type Meta struct {
	CorrelationID string `json:"correlationId,omitempty"`
	TraceParent   string `json:"traceparent,omitempty"`
	TraceState    string `json:"tracestate,omitempty"`
}

// traceContext reads and writes W3C trace context (traceparent, tracestate).
var traceContext propagation.TraceContext

// MetaFrom fills Meta from ctx: its correlation id and, when ctx holds a
// span that is sampled or remote, its trace context.
func MetaFrom(ctx context.Context) Meta {
	c := propagation.MapCarrier{}
	traceContext.Inject(ctx, c)
	return Meta{CorrelationID: correlation.ID(ctx), TraceParent: c["traceparent"], TraceState: c["tracestate"]}
}

// fill sets m to from, unless it is set already.
func (m *Meta) fill(from Meta) {
	if *m == (Meta{}) {
		*m = from
	}
}

// Context returns ctx continuing the trace m carries, if any.
func (m Meta) Context(ctx context.Context) context.Context {
	if m.TraceParent == "" {
		return ctx
	}
	return traceContext.Extract(ctx, propagation.MapCarrier{"traceparent": m.TraceParent, "tracestate": m.TraceState})
}

// Peek reads the detail type and the Meta of an envelope's body, without the
// rest of its detail; ok is false when body is not an envelope.
func Peek(body []byte) (detailType string, m Meta, ok bool) {
	var e struct {
		DetailType string `json:"detail-type"`
		Detail     Meta   `json:"detail"`
	}
	if json.Unmarshal(body, &e) != nil || e.DetailType == "" {
		return "", Meta{}, false
	}
	return e.DetailType, e.Detail, true
}

// ProductChanged says a product was created or updated; Version orders the changes.
type ProductChanged struct {
	Meta
	ProductID string      `json:"productId"`
	Name      string      `json:"name"`
	Category  string      `json:"category"`
	Price     money.Cents `json:"price"`
	Version   int64       `json:"version"`
}

// ProductDeleted says a product is gone; Version is the version that deleted it.
type ProductDeleted struct {
	Meta
	ProductID string `json:"productId"`
	Version   int64  `json:"version"`
}

// CheckoutBasket is a basket turned into a priced snapshot at checkout.
type CheckoutBasket struct {
	Meta
	CheckoutID    string         `json:"checkoutId"`
	UserName      string         `json:"userName"`
	FirstName     string         `json:"firstName"`
	LastName      string         `json:"lastName"`
	Email         string         `json:"email"`
	Address       string         `json:"address"`
	PaymentMethod string         `json:"paymentMethod"`
	Lines         []CheckoutLine `json:"lines"`
	TotalPrice    money.Cents    `json:"totalPrice"`
	CheckedOutAt  time.Time      `json:"checkedOutAt"`
}

// CheckoutLine is one priced basket line.
type CheckoutLine struct {
	ProductID   string      `json:"productId"`
	ProductName string      `json:"productName"`
	Color       string      `json:"color,omitempty"`
	Quantity    int         `json:"quantity"`
	UnitPrice   money.Cents `json:"unitPrice"`
	LineTotal   money.Cents `json:"lineTotal"`
}

// Outgoing is an event as a service stores it beside the state change that caused it.
type Outgoing struct {
	ID         string          `json:"id"`
	Source     string          `json:"source"`
	DetailType string          `json:"detailType"`
	Detail     json.RawMessage `json:"detail"`
	Time       time.Time       `json:"time"`
}

// New builds an Outgoing event with a fresh id. A detail that carries Meta
// (its type embeds it) and leaves it empty gets ctx's (MetaFrom): the
// event carries on the correlation id and trace of the work that made it,
// and no use case passes them by hand.
func New[T any](ctx context.Context, source, detailType string, detail T, now time.Time) (Outgoing, error) {
	id := uuid.NewString()
	if trace.SpanContextFromContext(ctx).IsValid() {
		// The event's creation, a span of its own: the event carries its
		// context (OpenTelemetry's messaging "creation context"), which its
		// publishing, delivery and processing continue. It is an internal
		// span: which bus the event goes to is the runtime's, known only
		// when it is published.
		var span trace.Span
		ctx, span = otel.Tracer(tracerName).Start(ctx, "create "+detailType,
			trace.WithAttributes(attribute.String("event.source", source), attribute.String("event.id", id)))
		span.End()
	}
	if m, ok := any(&detail).(interface{ fill(Meta) }); ok {
		m.fill(MetaFrom(ctx))
	}
	b, err := json.Marshal(detail)
	if err != nil {
		return Outgoing{}, fmt.Errorf("encode %s: %w", detailType, err)
	}
	return Outgoing{ID: id, Source: source, DetailType: detailType, Detail: b, Time: now.UTC()}, nil
}

// tracerName names the spans this package makes: an event's creation.
const tracerName = "github.com/eventshop/eventshop/internal/events"

// Envelope is the EventBridge event a consumer receives as an SQS message body.
type Envelope = awsevents.EventBridgeEvent

// Wrap puts o into the envelope EventBridge would deliver from account and region.
func (o Outgoing) Wrap(account, region string) Envelope {
	return Envelope{
		Version:    "0",
		ID:         o.ID,
		DetailType: o.DetailType,
		Source:     o.Source,
		AccountID:  account,
		Time:       o.Time,
		Region:     region,
		Resources:  []string{},
		Detail:     o.Detail,
	}
}

// unmarshal decodes an envelope or a detail with go-json-experiment's
// decoder: what it reads was encoded with encoding/json (New, Wrap) or, on
// AWS, by EventBridge with the same names, and v2 reads that the same (exact
// names, valid UTF-8) in half the time, on every message's way to its
// handler.
func unmarshal(data []byte, v any) error { return jsonv2.Unmarshal(data, v) }

// Unwrap reads an SQS message body as an envelope.
func Unwrap(body string) (Envelope, error) {
	var e Envelope
	if err := unmarshal([]byte(body), &e); err != nil {
		return Envelope{}, fmt.Errorf("decode envelope: %w", err)
	}
	if e.Source == "" || e.DetailType == "" || len(e.Detail) == 0 {
		return Envelope{}, fmt.Errorf("decode envelope: source, detail-type and detail are required")
	}
	return e, nil
}

// DecodeDetail reads an envelope's detail into v, strictly.
func DecodeDetail(env Envelope, v any) error {
	if err := unmarshal(env.Detail, v); err != nil {
		return fmt.Errorf("decode %s detail of event %s: %w", env.DetailType, env.ID, err)
	}
	return nil
}
