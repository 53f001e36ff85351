// Package ordering is the ordering service's domain: orders made from checkouts,
// and the repository port its adapters implement.
package ordering

import (
	"context"
	"time"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/kind"
	"github.com/eventshop/eventshop/internal/money"
	"github.com/eventshop/eventshop/internal/page"
)

// Domain outcomes.
var (
	ErrNotFound        = kind.New(kind.NotFound, "order not found")
	ErrExists          = kind.New(kind.Conflict, "order already exists")
	ErrVersionConflict = kind.New(kind.Conflict, "order was changed by another request; read it again and retry")
)

// Order is a placed order. Its id is the checkout id it was made from.
type Order struct {
	OrderID       string
	UserName      string
	Status        string
	Lines         []Line
	TotalPrice    money.Cents
	FirstName     string
	LastName      string
	Email         string
	Address       string
	PaymentMethod string
	OrderDate     time.Time
	// CancelReason says why a CANCELLED order was cancelled.
	CancelReason string
	// History lists the order's changes, oldest first, from its placing.
	History []Change
	// Version counts the order's writes, from 1.
	Version int64
}

// Line is one priced line of an order.
type Line struct {
	ProductID   string
	ProductName string
	Color       string
	Quantity    int
	UnitPrice   money.Cents
	LineTotal   money.Cents
	// Unavailable marks a line whose stock could not be held when the order
	// was refused for it (deleted, or too few units).
	Unavailable bool
}

// Store keeps orders under (userName, orderId); order ids sort by time.
// Every write commits the events it is given atomically with it.
type Store interface {
	// Arrival returns a channel that gets userName's order orderID once it
	// has been created and committed, and stop, to call when no longer
	// waiting: a reader waiting for it need neither poll nor read it
	// (app.Orders.Await). A store that cannot see every write to its orders
	// (DynamoDB: another function makes them) returns a nil channel, and
	// the reader polls.
	Arrival(userName, orderID string) (created <-chan Order, stop func())
	// Create stores o, at version 1, unless an order with its id exists (ErrExists).
	Create(ctx context.Context, o Order, evts ...events.Outgoing) error
	// Update replaces the order stored at o.Version-1 with o; ErrNotFound if
	// there is none, ErrVersionConflict if another version is stored.
	Update(ctx context.Context, o Order, evts ...events.Outgoing) error
	// Get returns one of userName's orders, or ErrNotFound.
	Get(ctx context.Context, userName, orderID string) (Order, error)
	// ListByUser pages through userName's orders, newest first.
	ListByUser(ctx context.Context, userName string, req page.Request) (page.Of[Order], error)
	// List pages through every order, or every order in status if status
	// is not "", newest first.
	List(ctx context.Context, status string, req page.Request) (page.Of[Order], error)
}
