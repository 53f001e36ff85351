package httpapi

import (
	"github.com/eventshop/eventshop/internal/basket"
	"github.com/eventshop/eventshop/internal/money"
)

// basketBody is a priced basket as the API answers it (api/openapi.yaml's
// Basket).
type basketBody struct {
	UserName   string      `json:"userName"`
	Items      []line      `json:"items"`
	TotalPrice money.Cents `json:"totalPrice"`
	Version    int64       `json:"version"`
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

func basketOf(b basket.Priced) basketBody {
	var lines []line
	if b.Items != nil {
		lines = make([]line, len(b.Items))
		for i, l := range b.Items {
			lines[i] = line(l)
		}
	}
	return basketBody{UserName: b.UserName, Items: lines, TotalPrice: b.TotalPrice, Version: b.Version}
}
