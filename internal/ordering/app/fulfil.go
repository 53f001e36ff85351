package app

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/ordering"
	"github.com/eventshop/eventshop/internal/validation"
)

// maxChangeAttempts bounds retries when a concurrent write to the order wins.
const maxChangeAttempts = 3

// Cancel cancels one of userName's orders at its owner's or an admin's
// request, from PLACED, RESERVED or PAID (a *ordering.TransitionError, a
// 409, otherwise), and tells the other services (OrderCancelled).
func (o *Orders) Cancel(ctx context.Context, userName, orderID string) (ordering.Order, error) {
	if err := validation.First(validation.UserName("userName", userName), validation.ID("orderId", orderID)); err != nil {
		return ordering.Order{}, err
	}
	return o.change(ctx, userName, orderID, ordering.StatusCancelled, ordering.ReasonCustomerCancelled)
}

// Ship marks a PAID order shipped (a *ordering.TransitionError otherwise)
// and tells the inventory that its held stock is sold (OrderShipped).
func (o *Orders) Ship(ctx context.Context, userName, orderID string) (ordering.Order, error) {
	if err := validation.First(validation.UserName("userName", userName), validation.ID("orderId", orderID)); err != nil {
		return ordering.Order{}, err
	}
	return o.change(ctx, userName, orderID, ordering.StatusShipped, "")
}

// Outcome is the command a saga event turns into: move the order to To (with
// Reason for a cancellation), through Via first when the order has not
// reached it yet: events overtake one another on the way, and a payment
// taken proves the stock was held even when StockReserved is still to come.
type Outcome struct {
	OrderID, UserName string
	Via, To, Reason   string
}

// Apply moves an order as a saga event says. A change the status machine
// does not allow is ignored, and reported as not applied: late and repeated
// events change nothing.
func (o *Orders) Apply(ctx context.Context, c Outcome) (bool, error) {
	if c.Via != "" {
		if _, err := o.apply(ctx, c.UserName, c.OrderID, c.Via, ""); err != nil {
			return false, err
		}
	}
	return o.apply(ctx, c.UserName, c.OrderID, c.To, c.Reason)
}

// apply is change, with a change the status machine does not allow
// reported as not applied.
func (o *Orders) apply(ctx context.Context, userName, orderID, to, reason string) (bool, error) {
	_, err := o.change(ctx, userName, orderID, to, reason)
	var terr *ordering.TransitionError
	if errors.As(err, &terr) {
		return false, nil
	}
	return err == nil, err
}

// RecordRefund adds the refund of a cancelled order's payment to its
// history, once; it reports whether it did.
func (o *Orders) RecordRefund(ctx context.Context, userName, orderID string) (bool, error) {
	for range maxChangeAttempts {
		cur, err := o.store.Get(ctx, userName, orderID)
		if err != nil {
			return false, err
		}
		if !ordering.RefundDue(cur.History) {
			return false, nil
		}
		next := cur
		next.Version++
		next.History = append(slices.Clone(cur.History), ordering.Change{Status: ordering.StatusRefunded, At: o.now().UTC()})
		err = o.store.Update(ctx, next)
		if errors.Is(err, ordering.ErrVersionConflict) {
			continue
		}
		return err == nil, err
	}
	return false, ordering.ErrVersionConflict
}

// change moves userName's order to status to, with the event that tells the
// other services, retrying when a concurrent write wins.
func (o *Orders) change(ctx context.Context, userName, orderID, to, reason string) (ordering.Order, error) {
	for range maxChangeAttempts {
		cur, err := o.store.Get(ctx, userName, orderID)
		if err != nil {
			return ordering.Order{}, err
		}
		c, err := ordering.Transition(cur.Status, to, reason, o.now())
		if err != nil {
			return cur, err
		}
		next := cur
		next.Status, next.CancelReason, next.Version = to, reason, cur.Version+1
		next.History = append(slices.Clone(cur.History), c)
		evts, err := o.announce(ctx, cur, next)
		if err != nil {
			return ordering.Order{}, err
		}
		err = o.store.Update(ctx, next, evts...)
		if errors.Is(err, ordering.ErrVersionConflict) {
			continue
		}
		if err != nil {
			return ordering.Order{}, err
		}
		return next, nil
	}
	return ordering.Order{}, fmt.Errorf("order %s: %w", orderID, ordering.ErrVersionConflict)
}

// announce returns the events that tell the other services of a change from
// before to after: cancellations and shipments; the rest concern the
// ordering service alone.
func (o *Orders) announce(ctx context.Context, before, after ordering.Order) ([]events.Outgoing, error) {
	ref := events.OrderRef{OrderID: after.OrderID, UserName: after.UserName}
	var (
		e   events.Outgoing
		err error
	)
	switch after.Status {
	case ordering.StatusCancelled:
		e, err = events.New(events.SourceOrdering, events.TypeOrderCancelled, events.OrderCancelled{
			Meta: events.MetaFrom(ctx), OrderRef: ref, From: before.Status, Reason: after.CancelReason,
			Lines: orderLines(after.Lines), TotalPrice: after.TotalPrice,
		}, o.now())
	case ordering.StatusShipped:
		e, err = events.New(events.SourceOrdering, events.TypeOrderShipped, events.OrderShipped{
			Meta: events.MetaFrom(ctx), OrderRef: ref, Lines: orderLines(after.Lines),
		}, o.now())
	default:
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return []events.Outgoing{e}, nil
}

// orderLines is what the saga needs of an order's lines: units per product,
// one line per product (colours add up).
func orderLines(lines []ordering.Line) []events.OrderLine {
	var out []events.OrderLine
	at := map[string]int{}
	for _, l := range lines {
		if i, ok := at[l.ProductID]; ok {
			out[i].Quantity += l.Quantity
			continue
		}
		at[l.ProductID] = len(out)
		out = append(out, events.OrderLine{ProductID: l.ProductID, Quantity: l.Quantity})
	}
	return out
}
