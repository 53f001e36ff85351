package dynamo

import (
	"time"

	"github.com/eventshop/eventshop/internal/money"
	"github.com/eventshop/eventshop/internal/ordering"
)

// record is an order as the table keeps it. Its attribute names belong to the
// store, not to the API, so that renaming an API field never breaks reading
// the orders already stored.
type record struct {
	OrderID       string       `dynamodbav:"orderId"`
	UserName      string       `dynamodbav:"userName"`
	Status        string       `dynamodbav:"status"`
	Lines         []lineRecord `dynamodbav:"lines"`
	TotalPrice    money.Cents  `dynamodbav:"totalPrice"`
	FirstName     string       `dynamodbav:"firstName"`
	LastName      string       `dynamodbav:"lastName"`
	Email         string       `dynamodbav:"email"`
	Address       string       `dynamodbav:"address"`
	PaymentMethod string       `dynamodbav:"paymentMethod"`
	OrderDate     time.Time    `dynamodbav:"orderDate"`
}

type lineRecord struct {
	ProductID   string      `dynamodbav:"productId"`
	ProductName string      `dynamodbav:"productName"`
	Color       string      `dynamodbav:"color,omitempty"`
	Quantity    int         `dynamodbav:"quantity"`
	UnitPrice   money.Cents `dynamodbav:"unitPrice"`
	LineTotal   money.Cents `dynamodbav:"lineTotal"`
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
