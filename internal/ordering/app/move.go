package app

import (
	"context"
	"errors"
	"slices"

	"github.com/eventshop/eventshop/internal/ordering"
)

// Move is the command a saga event turns into: move the order to To (with
// Reason for a cancellation), through Via first when the order has not
// reached it yet: events overtake one another on the way, and a payment
// taken proves the stock was held even when StockReserved is still to come.
type Move struct {
	OrderID, UserName string
	Via, To, Reason   string
	// Unavailable names the products a refusal of the stock could not
	// hold: their lines are marked so.
	Unavailable []string
}

// Apply moves an order as a saga event says. A change the status machine
// does not allow is ignored, and reported as not applied: late and repeated
// events change nothing.
func (o *Orders) Apply(ctx context.Context, c Move) (bool, error) {
	if c.Via != "" {
		if _, err := o.apply(ctx, c.UserName, c.OrderID, c.Via, ""); err != nil {
			return false, err
		}
	}
	return o.apply(ctx, c.UserName, c.OrderID, c.To, c.Reason, c.Unavailable...)
}

// apply is change, with a change the status machine does not allow
// reported as not applied.
func (o *Orders) apply(ctx context.Context, userName, orderID, to, reason string, unavailable ...string) (bool, error) {
	_, err := o.change(ctx, userName, orderID, to, reason, unavailable...)
	var terr *ordering.TransitionError
	if errors.As(err, &terr) {
		return false, nil
	}
	return err == nil, err
}

// RecordRefund adds the refund of a cancelled order's payment to its
// history, once; it reports whether it did. A refund is only ever of a
// captured payment: if the history shows no charge yet (the refund overtook
// the capture's event), the charge is recorded with it.
func (o *Orders) RecordRefund(ctx context.Context, userName, orderID string) (bool, error) {
	return o.record(ctx, userName, orderID, func(cur ordering.Order) []string {
		switch {
		case cur.Status != ordering.StatusCancelled || ordering.Holds(cur.History, ordering.StatusRefunded):
			return nil
		case charged(cur.History):
			return []string{ordering.StatusRefunded}
		}
		return []string{ordering.StatusPaymentCaptured, ordering.StatusRefunded}
	})
}

func charged(history []ordering.Change) bool {
	return ordering.Holds(history, ordering.StatusPaid) || ordering.Holds(history, ordering.StatusPaymentCaptured)
}

// RecordCapture adds to a cancelled order's history that its payment was
// captured all the same (the capture raced the cancellation), once, so that
// the history shows the charge its refund gives back. An order not cancelled
// becomes PAID from the same event instead (Apply). It reports whether it
// recorded the capture.
func (o *Orders) RecordCapture(ctx context.Context, userName, orderID string) (bool, error) {
	return o.record(ctx, userName, orderID, func(cur ordering.Order) []string {
		if cur.Status != ordering.StatusCancelled || charged(cur.History) {
			return nil
		}
		return []string{ordering.StatusPaymentCaptured}
	})
}

// record appends to an order's history the facts due gives for it (none:
// nothing to record), retrying when a concurrent write wins.
func (o *Orders) record(ctx context.Context, userName, orderID string, due func(ordering.Order) []string) (bool, error) {
	for range maxChangeAttempts {
		cur, err := o.store.Get(ctx, userName, orderID)
		if err != nil {
			return false, err
		}
		facts := due(cur)
		if len(facts) == 0 {
			return false, nil
		}
		next := cur
		next.Version++
		next.History = slices.Clone(cur.History)
		for _, f := range facts {
			next.History = append(next.History, ordering.Change{Status: f, At: o.now().UTC()})
		}
		err = o.store.Update(ctx, next)
		if errors.Is(err, ordering.ErrVersionConflict) {
			continue
		}
		return err == nil, err
	}
	return false, ordering.ErrVersionConflict
}
