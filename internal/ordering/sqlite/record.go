package sqlite

import (
	"time"

	"github.com/eventshop/eventshop/internal/money"
	"github.com/eventshop/eventshop/internal/ordering"
)

// record is an order as the body column keeps it. Its JSON names belong to the
// store, not to the API, so that renaming an API field never breaks reading
// the orders already stored.
type record struct {
	OrderID       string       `json:"orderId"`
	UserName      string       `json:"userName"`
	Status        string       `json:"status"`
	Lines         []lineRecord `json:"lines"`
	TotalPrice    money.Cents  `json:"totalPrice"`
	FirstName     string       `json:"firstName"`
	LastName      string       `json:"lastName"`
	Email         string       `json:"email"`
	Address       string       `json:"address"`
	PaymentMethod string       `json:"paymentMethod"`
	OrderDate     time.Time    `json:"orderDate"`
}

type lineRecord struct {
	ProductID   string      `json:"productId"`
	ProductName string      `json:"productName"`
	Color       string      `json:"color,omitempty"`
	Quantity    int         `json:"quantity"`
	UnitPrice   money.Cents `json:"unitPrice"`
	LineTotal   money.Cents `json:"lineTotal"`
}

func toRecord(o ordering.Order) record {
	lines := make([]lineRecord, len(o.Lines))
	for i, l := range o.Lines {
		lines[i] = lineRecord{ProductID: l.ProductID, ProductName: l.ProductName, Color: l.Color, Quantity: l.Quantity, UnitPrice: l.UnitPrice, LineTotal: l.LineTotal}
	}
	return record{
		OrderID: o.OrderID, UserName: o.UserName, Status: o.Status, Lines: lines, TotalPrice: o.TotalPrice,
		FirstName: o.FirstName, LastName: o.LastName, Email: o.Email, Address: o.Address,
		PaymentMethod: o.PaymentMethod, OrderDate: o.OrderDate,
	}
}

func (r record) order() ordering.Order {
	lines := make([]ordering.Line, len(r.Lines))
	for i, l := range r.Lines {
		lines[i] = ordering.Line{ProductID: l.ProductID, ProductName: l.ProductName, Color: l.Color, Quantity: l.Quantity, UnitPrice: l.UnitPrice, LineTotal: l.LineTotal}
	}
	return ordering.Order{
		OrderID: r.OrderID, UserName: r.UserName, Status: r.Status, Lines: lines, TotalPrice: r.TotalPrice,
		FirstName: r.FirstName, LastName: r.LastName, Email: r.Email, Address: r.Address,
		PaymentMethod: r.PaymentMethod, OrderDate: r.OrderDate,
	}
}
