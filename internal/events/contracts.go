package events

import (
	"slices"
	"time"
)

// Contract is an event the shop publishes: who sends it, its source and
// detail-type, and an example of its detail, whose Go type is the detail's.
// The JSON Schemas in api/events are generated from these (package
// eventschema), with the example in each.
type Contract struct {
	Publisher  string // the service that sends it
	Source     string
	DetailType string
	Example    any
	// Key names the detail's field that says what the event is about: a
	// consumer handles the events of one key one after another, in the
	// order they came, and those of different keys side by side.
	Key string
}

// The keys of the contracts: what an event is about.
const (
	KeyProduct  = "productId"
	KeyCheckout = "checkoutId" // the order the checkout becomes: its id is the order's
	KeyOrder    = "orderId"
)

// Contracts lists every event the shop publishes. The examples tell one
// order's story: a phone announced, checked out, reserved, paid, shipped.
func Contracts() []Contract {
	meta := Meta{CorrelationID: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
	order := OrderRef{OrderID: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", UserName: "ada"}
	lines := []OrderLine{{ProductID: "phone-1", Quantity: 2}}
	return []Contract{
		{ServiceCatalog, SourceCatalog, TypeProductChanged, ProductChanged{Meta: meta, ProductID: "phone-1", Name: "Phone", Category: "Phone", Price: 19999, Version: 3}, KeyProduct},
		{ServiceCatalog, SourceCatalog, TypeProductDeleted, ProductDeleted{Meta: meta, ProductID: "phone-1", Version: 4}, KeyProduct},
		{ServiceBasket, SourceCheckout, TypeCheckoutBasket, CheckoutBasket{Meta: meta, CheckoutID: order.OrderID, UserName: "ada",
			FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com", Address: "12 St James's Square, London", PaymentMethod: "invoice",
			Lines:      []CheckoutLine{{ProductID: "phone-1", ProductName: "Phone", Color: "black", Quantity: 2, UnitPrice: 19999, LineTotal: 39998}},
			TotalPrice: 39998, CheckedOutAt: time.Date(2026, 12, 4, 10, 30, 0, 0, time.UTC)}, KeyCheckout},
		{ServiceOrdering, SourceOrdering, TypeOrderPlaced, OrderPlaced{Meta: meta, OrderRef: order, Lines: lines, TotalPrice: 39998, PaymentMethod: "invoice"}, KeyOrder},
		{ServiceOrdering, SourceOrdering, TypeOrderCancelled, OrderCancelled{Meta: meta, OrderRef: order, From: "PAID", Reason: ReasonCustomerCancelled, Lines: lines, TotalPrice: 39998}, KeyOrder},
		{ServiceOrdering, SourceOrdering, TypeOrderShipped, OrderShipped{Meta: meta, OrderRef: order, Lines: lines}, KeyOrder},
		{ServiceInventory, SourceInventory, TypeStockReserved, StockReserved{Meta: meta, OrderRef: order, TotalPrice: 39998, PaymentMethod: "invoice"}, KeyOrder},
		{ServiceInventory, SourceInventory, TypeStockRejected, StockRejected{Meta: meta, OrderRef: order, Reason: ReasonOutOfStock, ProductIDs: []string{"phone-1"}}, KeyOrder},
		{ServicePayment, SourcePayment, TypePaymentCaptured, PaymentCaptured{Meta: meta, OrderRef: order, PaymentID: "pay-0193a1b2", Amount: 39998}, KeyOrder},
		{ServicePayment, SourcePayment, TypePaymentDeclined, PaymentDeclined{Meta: meta, OrderRef: order, Reason: "declined by the provider"}, KeyOrder},
		{ServicePayment, SourcePayment, TypePaymentRefunded, PaymentRefunded{Meta: meta, OrderRef: order, PaymentID: "pay-0193a1b2", Amount: 39998}, KeyOrder},
	}
}

// SourcesOf lists the sources service publishes events from, sorted; with
// no service named, every source of the shop.
func SourcesOf(services ...string) []string {
	var out []string
	for _, c := range Contracts() {
		if (len(services) == 0 || slices.Contains(services, c.Publisher)) && !slices.Contains(out, c.Source) {
			out = append(out, c.Source)
		}
	}
	slices.Sort(out)
	return out
}

// The services, as the rules name their consumers and the contracts their
// publishers (package services lists their descriptors).
const (
	ServiceCatalog   = "catalog"
	ServiceBasket    = "basket"
	ServiceOrdering  = "ordering"
	ServiceInventory = "inventory"
	ServicePayment   = "payment"
)
