package events

// Contract is an event the shop publishes: who sends it, its source and
// detail-type, and the Go type of its detail (a zero value of it). The JSON
// Schemas in api/events are generated from these (package eventschema).
type Contract struct {
	Publisher  string // the service that sends it
	Source     string
	DetailType string
	Detail     any
}

// Contracts lists every event the shop publishes.
func Contracts() []Contract {
	return []Contract{
		{"catalog", SourceCatalog, TypeProductChanged, ProductChanged{}},
		{"catalog", SourceCatalog, TypeProductDeleted, ProductDeleted{}},
		{"basket", SourceCheckout, TypeCheckoutBasket, CheckoutBasket{}},
		{"ordering", SourceOrdering, TypeOrderPlaced, OrderPlaced{}},
		{"ordering", SourceOrdering, TypeOrderCancelled, OrderCancelled{}},
		{"ordering", SourceOrdering, TypeOrderShipped, OrderShipped{}},
		{"inventory", SourceInventory, TypeStockReserved, StockReserved{}},
		{"inventory", SourceInventory, TypeStockRejected, StockRejected{}},
		{"payment", SourcePayment, TypePaymentCaptured, PaymentCaptured{}},
		{"payment", SourcePayment, TypePaymentDeclined, PaymentDeclined{}},
		{"payment", SourcePayment, TypePaymentRefunded, PaymentRefunded{}},
	}
}
