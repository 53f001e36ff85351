package app

import (
	"context"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/inventory"
	"github.com/eventshop/eventshop/internal/money"
	"github.com/eventshop/eventshop/internal/validation"
)

// ReserveOrder is the command to hold an order's stock: its lines, and what
// the payment that follows needs.
type ReserveOrder struct {
	OrderID, UserName string
	Lines             []inventory.Need
	TotalPrice        money.Cents
	PaymentMethod     string
}

// Reserve holds every line of an order or none, and tells the others:
// StockReserved (with what the payment needs) or StockRejected (with why,
// and the products that could not be held),
// committed with the reservation. An order released (cancelled) before its
// reservation takes nothing and says nothing.
func (a *Inventory) Reserve(ctx context.Context, c ReserveOrder) (inventory.ReservationOutcome, error) {
	lines := inventory.Merge(c.Lines)
	if err := validation.First(validation.ID("orderId", c.OrderID), validation.UserName("userName", c.UserName), inventory.ValidateLines(lines)); err != nil {
		return "", err
	}
	ref := events.OrderRef{OrderID: c.OrderID, UserName: c.UserName}
	return a.store.Reserve(ctx, c.OrderID, lines, func(o inventory.ReservationOutcome, short []string) ([]events.Outgoing, error) {
		var (
			e   events.Outgoing
			err error
		)
		switch o {
		case inventory.Reserved:
			e, err = events.New(ctx, events.SourceInventory, events.TypeStockReserved, events.StockReserved{
				OrderRef: ref, TotalPrice: c.TotalPrice, PaymentMethod: c.PaymentMethod,
			}, a.now())
		case inventory.OutOfStock, inventory.ProductUnavailable:
			e, err = events.New(ctx, events.SourceInventory, events.TypeStockRejected, events.StockRejected{
				OrderRef: ref, Reason: string(o), ProductIDs: short,
			}, a.now())
		default:
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return []events.Outgoing{e}, nil
	})
}
