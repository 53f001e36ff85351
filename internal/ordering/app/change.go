package app

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/ordering"
)

// maxChangeAttempts bounds retries when a concurrent write to the order wins.
const maxChangeAttempts = 3

// change moves userName's order to status to, with the event that tells the
// other services, retrying when a concurrent write wins. The lines of the
// products unavailable names are marked so.
func (o *Orders) change(ctx context.Context, userName, orderID, to, reason string, unavailable ...string) (ordering.Order, error) {
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
		if len(unavailable) > 0 {
			next.Lines = slices.Clone(cur.Lines)
			for i, l := range next.Lines {
				next.Lines[i].Unavailable = slices.Contains(unavailable, l.ProductID)
			}
		}
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
		e, err = events.New(ctx, events.SourceOrdering, events.TypeOrderCancelled, events.OrderCancelled{
			OrderRef: ref, From: before.Status, Reason: after.CancelReason,
			Lines: orderLines(after.Lines), TotalPrice: after.TotalPrice,
		}, o.now())
	case ordering.StatusShipped:
		e, err = events.New(ctx, events.SourceOrdering, events.TypeOrderShipped, events.OrderShipped{
			OrderRef: ref, Lines: orderLines(after.Lines),
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
