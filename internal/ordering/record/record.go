// Package record is how the ordering adapters keep an order. Its names, in
// the SQLite body (JSON) and as DynamoDB attributes alike, belong to the
// stores, not to the API: renaming an API field never breaks reading the
// orders already stored. Both adapters pin them in a test.
package record

import (
	"time"

	"github.com/eventshop/eventshop/internal/money"
	"github.com/eventshop/eventshop/internal/ordering"
)

// Order is an order as the stores keep it.
type Order struct {
	OrderID       string      `json:"orderId" dynamodbav:"orderId"`
	UserName      string      `json:"userName" dynamodbav:"userName"`
	Status        string      `json:"status" dynamodbav:"status"`
	Lines         []Line      `json:"lines" dynamodbav:"lines"`
	TotalPrice    money.Cents `json:"totalPrice" dynamodbav:"totalPrice"`
	FirstName     string      `json:"firstName" dynamodbav:"firstName"`
	LastName      string      `json:"lastName" dynamodbav:"lastName"`
	Email         string      `json:"email" dynamodbav:"email"`
	Address       string      `json:"address" dynamodbav:"address"`
	PaymentMethod string      `json:"paymentMethod" dynamodbav:"paymentMethod"`
	OrderDate     time.Time   `json:"orderDate" dynamodbav:"orderDate"`
	CancelReason  string      `json:"cancelReason,omitempty" dynamodbav:"cancelReason,omitempty"`
	History       []Change    `json:"history,omitempty" dynamodbav:"history,omitempty"`
	Version       int64       `json:"version,omitempty" dynamodbav:"version,omitempty"`
}

// Change is one entry of a stored order's history.
type Change struct {
	Status string    `json:"status" dynamodbav:"status"`
	At     time.Time `json:"at" dynamodbav:"at"`
	Reason string    `json:"reason,omitempty" dynamodbav:"reason,omitempty"`
}

// Line is one line of a stored order.
type Line struct {
	ProductID   string      `json:"productId" dynamodbav:"productId"`
	ProductName string      `json:"productName" dynamodbav:"productName"`
	Color       string      `json:"color,omitempty" dynamodbav:"color,omitempty"`
	Quantity    int         `json:"quantity" dynamodbav:"quantity"`
	UnitPrice   money.Cents `json:"unitPrice" dynamodbav:"unitPrice"`
	LineTotal   money.Cents `json:"lineTotal" dynamodbav:"lineTotal"`
	Unavailable bool        `json:"unavailable,omitempty" dynamodbav:"unavailable,omitempty"`
}

// FromOrder returns o as stored.
func FromOrder(o ordering.Order) Order {
	lines := make([]Line, len(o.Lines))
	for i, l := range o.Lines {
		lines[i] = Line(l)
	}
	history := make([]Change, len(o.History))
	for i, c := range o.History {
		history[i] = Change(c)
	}
	return Order{
		OrderID: o.OrderID, UserName: o.UserName, Status: o.Status, Lines: lines, TotalPrice: o.TotalPrice,
		FirstName: o.FirstName, LastName: o.LastName, Email: o.Email, Address: o.Address,
		PaymentMethod: o.PaymentMethod, OrderDate: o.OrderDate,
		CancelReason: o.CancelReason, History: history, Version: o.Version,
	}
}

// Order returns the stored order r.
func (r Order) Order() ordering.Order {
	lines := make([]ordering.Line, len(r.Lines))
	for i, l := range r.Lines {
		lines[i] = ordering.Line(l)
	}
	o := ordering.Order{
		OrderID: r.OrderID, UserName: r.UserName, Status: r.Status, Lines: lines, TotalPrice: r.TotalPrice,
		FirstName: r.FirstName, LastName: r.LastName, Email: r.Email, Address: r.Address,
		PaymentMethod: r.PaymentMethod, OrderDate: r.OrderDate,
		CancelReason: r.CancelReason, Version: r.Version, History: make([]ordering.Change, len(r.History)),
	}
	for i, c := range r.History {
		o.History[i] = ordering.Change(c)
	}
	if o.Version == 0 {
		// Stored before orders had versions and histories: its first write.
		o.Version = 1
		o.History = []ordering.Change{{Status: ordering.StatusPlaced, At: r.OrderDate}}
	}
	return o
}
