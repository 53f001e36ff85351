package httpapi

import (
	"time"

	"github.com/eventshop/eventshop/internal/money"
	"github.com/eventshop/eventshop/internal/ordering"
)

// order is an order as the API answers it (api/openapi.yaml's Order).
type order struct {
	OrderID       string      `json:"orderId"`
	UserName      string      `json:"userName"`
	Status        string      `json:"status"`
	Lines         []line      `json:"lines"`
	TotalPrice    money.Cents `json:"totalPrice"`
	FirstName     string      `json:"firstName"`
	LastName      string      `json:"lastName"`
	Email         string      `json:"email"`
	Address       string      `json:"address"`
	PaymentMethod string      `json:"paymentMethod"`
	OrderDate     time.Time   `json:"orderDate"`
	CancelReason  string      `json:"cancelReason,omitempty"`
	History       []change    `json:"history"`
	Version       int64       `json:"version"`
}

type line struct {
	ProductID   string      `json:"productId"`
	ProductName string      `json:"productName"`
	Color       string      `json:"color,omitempty"`
	Quantity    int         `json:"quantity"`
	UnitPrice   money.Cents `json:"unitPrice"`
	LineTotal   money.Cents `json:"lineTotal"`
	Unavailable bool        `json:"unavailable,omitempty"`
}

type change struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason,omitempty"`
}

func orderOf(o ordering.Order) order {
	var lines []line
	if o.Lines != nil {
		lines = make([]line, len(o.Lines))
		for i, l := range o.Lines {
			lines[i] = line(l)
		}
	}
	var history []change
	if o.History != nil {
		history = make([]change, len(o.History))
		for i, c := range o.History {
			history[i] = change(c)
		}
	}
	return order{
		OrderID: o.OrderID, UserName: o.UserName, Status: o.Status, Lines: lines, TotalPrice: o.TotalPrice,
		FirstName: o.FirstName, LastName: o.LastName, Email: o.Email, Address: o.Address,
		PaymentMethod: o.PaymentMethod, OrderDate: o.OrderDate, CancelReason: o.CancelReason,
		History: history, Version: o.Version,
	}
}
