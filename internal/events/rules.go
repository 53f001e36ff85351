package events

import (
	"encoding/json"
	"slices"
	"time"
)

// Pattern is the part of an EventBridge event pattern eventshop uses: exact
// matches on source and detail-type.
type Pattern struct {
	Source     []string `json:"source,omitempty"`
	DetailType []string `json:"detail-type,omitempty"`
}

// JSON renders p as EventBridge event pattern JSON.
func (p Pattern) JSON() string {
	b, _ := json.Marshal(p)
	return string(b)
}

// Matches reports whether an event with source and detailType matches p, as
// EventBridge would match it: every field listed must hold one of its values.
func (p Pattern) Matches(source, detailType string) bool {
	return (len(p.Source) == 0 || slices.Contains(p.Source, source)) &&
		(len(p.DetailType) == 0 || slices.Contains(p.DetailType, detailType))
}

// Rule routes the events matching Pattern to Queue, whose consumer takes
// batches of BatchSize and which sends a message to its dead-letter queue after
// MaxReceives failed receives.
type Rule struct {
	Name            string
	Pattern         Pattern
	Queue           string
	BatchSize       int
	MaxReceives     int
	ConsumerTimeout time.Duration
}

// VisibilityTimeout is how long a received message stays hidden: six times the
// consumer's timeout, as AWS advises for SQS event sources.
func (r Rule) VisibilityTimeout() time.Duration { return 6 * r.ConsumerTimeout }

// DeadLetterQueue names the queue that keeps what Queue could not process.
func (r Rule) DeadLetterQueue() string { return r.Queue + "-dlq" }

// Queues consumed by the services.
const (
	QueueBasketPrices   = "basket-price-view"
	QueueOrderingOrders = "ordering-checkout"
)

// Rules lists every route on the bus.
var Rules = []Rule{
	{
		Name:            "CatalogProductToBasket",
		Pattern:         Pattern{Source: []string{SourceCatalog}, DetailType: []string{TypeProductChanged, TypeProductDeleted}},
		Queue:           QueueBasketPrices,
		BatchSize:       10,
		MaxReceives:     5,
		ConsumerTimeout: 10 * time.Second,
	},
	{
		Name:            "CheckoutBasketToOrdering",
		Pattern:         Pattern{Source: []string{SourceCheckout}, DetailType: []string{TypeCheckoutBasket}},
		Queue:           QueueOrderingOrders,
		BatchSize:       10,
		MaxReceives:     5,
		ConsumerTimeout: 10 * time.Second,
	},
}
