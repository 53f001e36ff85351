// Package ordering is the ordering service's domain: orders made from checkouts,
// and the repository port its adapters implement.
package ordering

import (
	"context"
	"time"

	"github.com/eventshop/eventshop/internal/kind"
	"github.com/eventshop/eventshop/internal/money"
	"github.com/eventshop/eventshop/internal/page"
)

// Domain outcomes.
var (
	ErrNotFound = kind.New(kind.NotFound, "order not found")
	ErrExists   = kind.New(kind.Conflict, "order already exists")
)

// Order is a placed order. Its id is the checkout id it was made from.
type Order struct {
	OrderID       string      `json:"orderId"`
	UserName      string      `json:"userName"`
	Status        string      `json:"status"`
	Lines         []Line      `json:"lines"`
	TotalPrice    money.Cents `json:"totalPrice"`
	FirstName     string      `json:"firstName"`
	LastName      string      `json:"lastName"`
	Email         string      `json:"email"`
	Address       string      `json:"address"`
	PaymentMethod string      `json:"paymentMethod"`
	OrderDate     time.Time   `json:"orderDate"`
}

// Line is one priced line of an order.
type Line struct {
	ProductID   string      `json:"productId"`
	ProductName string      `json:"productName"`
	Color       string      `json:"color,omitempty"`
	Quantity    int         `json:"quantity"`
	UnitPrice   money.Cents `json:"unitPrice"`
	LineTotal   money.Cents `json:"lineTotal"`
}

// Store keeps orders under (userName, orderId); order ids sort by time.
type Store interface {
	// Create stores o unless an order with its id exists (ErrExists).
	Create(ctx context.Context, o Order) error
	// Get returns one of userName's orders, or ErrNotFound.
	Get(ctx context.Context, userName, orderID string) (Order, error)
	// ListByUser pages through userName's orders, newest first.
	ListByUser(ctx context.Context, userName string, req page.Request) (page.Of[Order], error)
	// List pages through all orders.
	List(ctx context.Context, req page.Request) (page.Of[Order], error)
}
