// Package app holds the inventory service's use cases: learning the catalog's
// products, setting and reading stock, and holding and releasing orders' stock.
package app

import (
	"context"
	"time"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/inventory"
	"github.com/eventshop/eventshop/internal/money"
	"github.com/eventshop/eventshop/internal/validation"
)

// DemoStock is how many units of each product the local shop's demo catalog starts with.
const DemoStock = 25

// Inventory runs the inventory use cases.
type Inventory struct {
	store inventory.Store
	now   func() time.Time
}

// New returns the use cases over store.
func New(store inventory.Store) *Inventory { return &Inventory{store: store, now: time.Now} }

// AnnounceProduct is the command to record that the catalog holds a product
// at a version, or deleted it.
type AnnounceProduct struct {
	ProductID string
	Version   int64
	Deleted   bool
}

// Announce records a product's announcement; an older one than the store
// holds is ignored, so duplicates and reordering are harmless. It reports
// whether anything changed.
func (a *Inventory) Announce(ctx context.Context, c AnnounceProduct) (bool, error) {
	if err := validation.ID("productId", c.ProductID); err != nil {
		return false, err
	}
	return a.store.Announce(ctx, c.ProductID, c.Version, c.Deleted)
}

// Get returns a product's stock; ErrNotFound for a product the catalog
// never announced.
func (a *Inventory) Get(ctx context.Context, productID string) (inventory.Stock, error) {
	if err := validation.ID("productId", productID); err != nil {
		return inventory.Stock{}, err
	}
	return a.store.Get(ctx, productID)
}

// SetAvailable sets the units of a product free to reserve, from 0 to
// inventory.MaxAvailable, and makes the product tracked. With ifVersion not
// 0 the stock must still be at that version.
func (a *Inventory) SetAvailable(ctx context.Context, productID string, available int, ifVersion int64) (inventory.Stock, error) {
	if err := validation.ID("productId", productID); err != nil {
		return inventory.Stock{}, err
	}
	if available < 0 || available > inventory.MaxAvailable {
		return inventory.Stock{}, validation.Field("available", "must be from 0 to %d", inventory.MaxAvailable)
	}
	if ifVersion < 0 {
		return inventory.Stock{}, validation.Field("version", "must not be negative")
	}
	return a.store.SetAvailable(ctx, productID, available, ifVersion)
}

// MaxReasonLength bounds an adjustment's reason.
const MaxReasonLength = 200

// AdjustStock is the command to add units to (or take them from) a
// product's stock, relative to whatever it holds now, with why.
type AdjustStock struct {
	ProductID string
	Delta     int
	Reason    string
}

// Adjust adds c.Delta units to a tracked product's stock (a negative delta
// takes them away), never below 0 nor above inventory.MaxAvailable. Unlike
// SetAvailable it needs no version: orders reserving meanwhile do not
// change what the admin counted in or out.
func (a *Inventory) Adjust(ctx context.Context, c AdjustStock) (inventory.Stock, error) {
	err := validation.First(validation.ID("productId", c.ProductID), validation.Text("reason", c.Reason, true, MaxReasonLength))
	if err == nil && (c.Delta == 0 || c.Delta < -inventory.MaxAvailable || c.Delta > inventory.MaxAvailable) {
		err = validation.Field("delta", "must be from -%d to %d, and not 0", inventory.MaxAvailable, inventory.MaxAvailable)
	}
	if err != nil {
		return inventory.Stock{}, err
	}
	return a.store.Adjust(ctx, c.ProductID, c.Delta)
}

// ReserveOrder is the command to hold an order's stock: its lines, and what
// the payment that follows needs.
type ReserveOrder struct {
	OrderID, UserName string
	Lines             []inventory.Line
	TotalPrice        money.Cents
	PaymentMethod     string
}

// Reserve holds every line of an order or none, and tells the others:
// StockReserved (with what the payment needs) or StockRejected (with why),
// committed with the reservation. An order released (cancelled) before its
// reservation takes nothing and says nothing.
func (a *Inventory) Reserve(ctx context.Context, c ReserveOrder) (inventory.Outcome, error) {
	lines := inventory.Merge(c.Lines)
	if err := validation.First(validation.ID("orderId", c.OrderID), validation.UserName("userName", c.UserName), inventory.ValidateLines(lines)); err != nil {
		return "", err
	}
	ref := events.OrderRef{OrderID: c.OrderID, UserName: c.UserName}
	return a.store.Reserve(ctx, c.OrderID, lines, func(o inventory.Outcome) ([]events.Outgoing, error) {
		var (
			e   events.Outgoing
			err error
		)
		switch o {
		case inventory.Reserved:
			e, err = events.New(events.SourceInventory, events.TypeStockReserved, events.StockReserved{
				Meta: events.MetaFrom(ctx), OrderRef: ref, TotalPrice: c.TotalPrice, PaymentMethod: c.PaymentMethod,
			}, a.now())
		case inventory.OutOfStock, inventory.ProductUnavailable:
			e, err = events.New(events.SourceInventory, events.TypeStockRejected, events.StockRejected{
				Meta: events.MetaFrom(ctx), OrderRef: ref, Reason: string(o),
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

// Release gives back what an order holds; a release before the reservation
// makes the reservation take nothing.
func (a *Inventory) Release(ctx context.Context, orderID string) error {
	if err := validation.ID("orderId", orderID); err != nil {
		return err
	}
	return a.store.Release(ctx, orderID, nil)
}

// Commit turns what a shipped order holds into units sold.
func (a *Inventory) Commit(ctx context.Context, orderID string) error {
	if err := validation.ID("orderId", orderID); err != nil {
		return err
	}
	return a.store.Commit(ctx, orderID)
}
