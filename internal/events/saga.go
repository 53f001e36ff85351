package events

import "github.com/eventshop/eventshop/internal/money"

// The order's fulfilment saga: sources and detail-types.
const (
	SourceOrdering  = "com.swn.ordering.order"
	SourceInventory = "com.swn.inventory.stock"
	SourcePayment   = "com.swn.payment.payment"

	TypeOrderPlaced     = "OrderPlaced"
	TypeOrderCancelled  = "OrderCancelled"
	TypeOrderShipped    = "OrderShipped"
	TypeStockReserved   = "StockReserved"
	TypeStockRejected   = "StockRejected"
	TypePaymentCaptured = "PaymentCaptured"
	TypePaymentDeclined = "PaymentDeclined"
	TypePaymentRefunded = "PaymentRefunded"
)

// OrderLine is a line of an order as the saga's services need it: what, and
// how many.
type OrderLine struct {
	ProductID string `json:"productId"`
	Quantity  int    `json:"quantity"`
}

// OrderRef names an order: every saga event carries it, so that each service
// acts without reading another's store.
type OrderRef struct {
	OrderID  string `json:"orderId"`
	UserName string `json:"userName"`
}

// OrderPlaced says an order exists and wants its stock reserved.
type OrderPlaced struct {
	Meta
	OrderRef
	Lines         []OrderLine `json:"lines"`
	TotalPrice    money.Cents `json:"totalPrice"`
	PaymentMethod string      `json:"paymentMethod"`
}

// OrderCancelled says an order was cancelled, from which status and why:
// stock held is released, a payment taken refunded, and a reservation or
// payment still to come takes nothing.
type OrderCancelled struct {
	Meta
	OrderRef
	From       string      `json:"from"`
	Reason     string      `json:"reason"`
	Lines      []OrderLine `json:"lines"`
	TotalPrice money.Cents `json:"totalPrice"`
}

// OrderShipped says an order left the shop: its held stock is sold.
type OrderShipped struct {
	Meta
	OrderRef
	Lines []OrderLine `json:"lines"`
}

// StockReserved says every line of an order is held; it carries what the
// payment needs.
type StockReserved struct {
	Meta
	OrderRef
	TotalPrice    money.Cents `json:"totalPrice"`
	PaymentMethod string      `json:"paymentMethod"`
}

// StockRejected says an order's stock could not be held, and why (one of
// StockRefusals); nothing is held.
type StockRejected struct {
	Meta
	OrderRef
	Reason string `json:"reason"`
	// ProductIDs are the products whose lines could not be held: deleted,
	// or with fewer units available than the line wanted.
	ProductIDs []string `json:"productIds,omitempty"`
}

// PaymentCaptured says an order's payment was taken.
type PaymentCaptured struct {
	Meta
	OrderRef
	PaymentID string      `json:"paymentId"`
	Amount    money.Cents `json:"amount"`
}

// PaymentDeclined says an order's payment was refused.
type PaymentDeclined struct {
	Meta
	OrderRef
	Reason string `json:"reason"`
}

// PaymentRefunded says a cancelled order's payment went back to the buyer.
type PaymentRefunded struct {
	Meta
	OrderRef
	PaymentID string      `json:"paymentId"`
	Amount    money.Cents `json:"amount"`
}

// Why an order is cancelled: OrderCancelled's reason, and for a refusal of
// its stock StockRejected's. The services and the rules take them from here.
const (
	ReasonOutOfStock         = "out_of_stock"        // a line wanted more than was available
	ReasonProductUnavailable = "product_unavailable" // a product was deleted
	ReasonPaymentDeclined    = "payment_declined"
	ReasonCustomerCancelled  = "customer_cancelled"
)

// StockRefusals are the reasons StockRejected gives: an order cancelled for
// one of them holds no stock and was never paid for.
var StockRefusals = []string{ReasonOutOfStock, ReasonProductUnavailable}
