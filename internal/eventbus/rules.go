package eventbus

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/eventshop/eventshop/internal/events"
)

// Rule routes the events matching Pattern to Queue, whose consumer takes
// batches of BatchSize and which sends a message to its dead-letter queue after
// MaxReceives failed receives.
type Rule struct {
	Name            string
	Pattern         Pattern
	Queue           string
	Consumer        string // the service whose consumer reads Queue: on AWS, function Consumer + "-consumer"
	BatchSize       int
	MaxReceives     int
	ConsumerTimeout time.Duration
}

// Bounds on a rule, as SQS and Lambda's SQS event source set them.
const (
	MaxBatchSize       = 10               // a Lambda SQS event source without a batching window
	MaxMaxReceives     = 1000             // an SQS redrive policy's maxReceiveCount
	MaxConsumerTimeout = 15 * time.Minute // a Lambda function's timeout
)

// validQueueName reports whether name is what SQS allows in a queue name,
// ^[A-Za-z0-9_-]{1,76}$, leaving room for the dead-letter queue's suffix.
func validQueueName(name string) bool {
	if len(name) < 1 || len(name) > 76 {
		return false
	}
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Validate checks every field of r: a zero that would silently stop a queue
// (a batch size of 0, no receives) is an error, not a default.
func (r Rule) Validate() error {
	var errs []error
	if r.Name == "" {
		errs = append(errs, errors.New("has no name"))
	}
	if !r.Pattern.Names("source") && !r.Pattern.Names("detail-type") {
		errs = append(errs, errors.New("pattern names no source and no detail-type: give one"))
	}
	if !validQueueName(r.Queue) {
		errs = append(errs, fmt.Errorf("queue %q must be 1 to 76 letters, digits, '-' or '_'", r.Queue))
	}
	if r.BatchSize < 1 || r.BatchSize > MaxBatchSize {
		errs = append(errs, fmt.Errorf("batch size %d must be from 1 to %d", r.BatchSize, MaxBatchSize))
	}
	if r.MaxReceives < 1 || r.MaxReceives > MaxMaxReceives {
		errs = append(errs, fmt.Errorf("max receives %d must be from 1 to %d", r.MaxReceives, MaxMaxReceives))
	}
	if r.ConsumerTimeout < time.Second || r.ConsumerTimeout > MaxConsumerTimeout {
		errs = append(errs, fmt.Errorf("consumer timeout %v must be from 1s to %v", r.ConsumerTimeout, MaxConsumerTimeout))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("rule %q: %w", r.Name, err)
	}
	return nil
}

// ValidateRules checks each rule, and that no two rules share a name or a
// queue (a queue has one consumer, and a second rule would overwrite the first).
func ValidateRules(rules []Rule) error {
	var errs []error
	names, queues := map[string]bool{}, map[string]bool{}
	for _, r := range rules {
		if err := r.Validate(); err != nil {
			errs = append(errs, err)
		}
		if names[r.Name] {
			errs = append(errs, fmt.Errorf("two rules are named %q", r.Name))
		}
		if queues[r.Queue] {
			errs = append(errs, fmt.Errorf("two rules target queue %q", r.Queue))
		}
		names[r.Name], queues[r.Queue] = true, true
	}
	return errors.Join(errs...)
}

// VisibilityTimeout is how long a received message stays hidden: six times the
// consumer's timeout, as AWS advises for SQS event sources.
func (r Rule) VisibilityTimeout() time.Duration { return 6 * r.ConsumerTimeout }

// DeadLetterQueue names the queue that keeps what Queue could not process.
func (r Rule) DeadLetterQueue() string { return r.Queue + "-dlq" }

// Queues consumed by the services.
const (
	QueueBasketPrices     = "basket-price-view"
	QueueOrderingOrders   = "ordering-checkout"
	QueueInventoryCatalog = "inventory-catalog"
	QueueInventoryOrders  = "inventory-orders"
	QueueOrderingFulfil   = "ordering-fulfilment"
	QueuePaymentOrders    = "payment-orders"
)

// Rules lists every route on the bus. They are built on first use, not at
// init: the Lambda functions link this package and never route (EventBridge
// does), and compiling the patterns was most of the package's init time.
func Rules() []Rule { return slices.Clone(rules()) }

var rules = sync.OnceValue(func() []Rule {
	return []Rule{
		{
			Name:            "CatalogProductToBasket",
			Pattern:         SourceAndTypes(events.SourceCatalog, events.TypeProductChanged, events.TypeProductDeleted),
			Queue:           QueueBasketPrices,
			Consumer:        events.ServiceBasket,
			BatchSize:       10,
			MaxReceives:     5,
			ConsumerTimeout: 10 * time.Second,
		},
		{
			Name:            "CheckoutBasketToOrdering",
			Pattern:         SourceAndTypes(events.SourceCheckout, events.TypeCheckoutBasket),
			Queue:           QueueOrderingOrders,
			Consumer:        events.ServiceOrdering,
			BatchSize:       10,
			MaxReceives:     5,
			ConsumerTimeout: 10 * time.Second,
		},
		{
			Name:            "CatalogProductToInventory",
			Pattern:         SourceAndTypes(events.SourceCatalog, events.TypeProductChanged, events.TypeProductDeleted),
			Queue:           QueueInventoryCatalog,
			Consumer:        events.ServiceInventory,
			BatchSize:       10,
			MaxReceives:     5,
			ConsumerTimeout: 10 * time.Second,
		},
		{
			// Orders to reserve or sell, and cancellations that may hold stock: a
			// cancellation because the stock was refused held nothing. One from
			// PLACED is routed all the same: its reservation may be under way, and
			// must take nothing, or give back what it took.
			Name: "OrderToInventory",
			Pattern: PatternOf(Fields{"source": OneOf(events.SourceOrdering), "$or": Or(
				Fields{"detail-type": OneOf(events.TypeOrderPlaced, events.TypeOrderShipped)},
				Fields{"detail-type": OneOf(events.TypeOrderCancelled), "detail": Fields{"reason": AnythingBut(events.StockRefusals...)}},
			)}),
			Queue:           QueueInventoryOrders,
			Consumer:        events.ServiceInventory,
			BatchSize:       10,
			MaxReceives:     5,
			ConsumerTimeout: 10 * time.Second,
		},
		{
			// Stock held is paid for; a cancellation that may have a payment is
			// refunded, or marked so that a payment under way takes nothing. One
			// because the stock was refused, or the payment declined, has none.
			Name: "ReservedToPayment",
			Pattern: PatternOf(Fields{"$or": Or(
				Fields{"source": OneOf(events.SourceInventory), "detail-type": OneOf(events.TypeStockReserved)},
				Fields{"source": OneOf(events.SourceOrdering), "detail-type": OneOf(events.TypeOrderCancelled),
					"detail": Fields{"reason": AnythingBut(append(slices.Clone(events.StockRefusals), events.ReasonPaymentDeclined)...)}},
			)}),
			Queue:           QueuePaymentOrders,
			Consumer:        events.ServicePayment,
			BatchSize:       10,
			MaxReceives:     5,
			ConsumerTimeout: 10 * time.Second,
		},
		{
			Name: "FulfilmentToOrdering",
			Pattern: PatternOf(Fields{
				"source":      OneOf(events.SourceInventory, events.SourcePayment),
				"detail-type": OneOf(events.TypeStockReserved, events.TypeStockRejected, events.TypePaymentCaptured, events.TypePaymentDeclined, events.TypePaymentRefunded),
			}),
			Queue:           QueueOrderingFulfil,
			Consumer:        events.ServiceOrdering,
			BatchSize:       10,
			MaxReceives:     5,
			ConsumerTimeout: 10 * time.Second,
		},
	}
})
