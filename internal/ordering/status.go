package ordering

import (
	"fmt"
	"slices"
	"time"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/kind"
)

// An order's statuses. PLACED (from a checkout) → RESERVED (stock held for
// every line) → PAID (payment captured) → SHIPPED (by an admin); CANCELLED
// from PLACED, RESERVED or PAID, with a reason.
const (
	StatusPlaced    = "PLACED"
	StatusReserved  = "RESERVED"
	StatusPaid      = "PAID"
	StatusShipped   = "SHIPPED"
	StatusCancelled = "CANCELLED"
)

// Statuses lists every status an order may have.
var Statuses = []string{StatusPlaced, StatusReserved, StatusPaid, StatusShipped, StatusCancelled}

// Facts that appear only in an order's history, whatever its status: the
// payment of a cancelled order went back to the buyer; a payment was
// captured for an order cancelled meanwhile (the capture raced the
// cancellation, and its refund follows).
const (
	StatusRefunded        = "REFUNDED"
	StatusPaymentCaptured = "PAYMENT_CAPTURED"
)

// Why an order was cancelled: the reasons its OrderCancelled event carries.
const (
	ReasonOutOfStock         = events.ReasonOutOfStock
	ReasonProductUnavailable = events.ReasonProductUnavailable
	ReasonPaymentDeclined    = events.ReasonPaymentDeclined
	ReasonCustomerCancelled  = events.ReasonCustomerCancelled
)

// CancelReasons lists every reason a cancellation may give.
var CancelReasons = []string{ReasonOutOfStock, ReasonProductUnavailable, ReasonPaymentDeclined, ReasonCustomerCancelled}

// next lists the statuses an order may move to from each status.
var next = map[string][]string{
	StatusPlaced:   {StatusReserved, StatusCancelled},
	StatusReserved: {StatusPaid, StatusCancelled},
	StatusPaid:     {StatusShipped, StatusCancelled},
}

// Change is one entry of an order's history.
type Change struct {
	Status string
	At     time.Time
	Reason string // why it was cancelled
}

// TransitionError is a change the status machine does not allow: late and
// repeated events meet it and are ignored; a person asking for it gets a 409.
type TransitionError struct{ From, To string }

func (e *TransitionError) Error() string {
	return fmt.Sprintf("the order is %s; it cannot become %s", e.From, e.To)
}

// Kind makes a forbidden transition a conflict with the order's state.
func (e *TransitionError) Kind() kind.Kind { return kind.Conflict }

// Transition returns the change that takes an order from status from to
// status to at time at, or a *TransitionError. A cancellation needs one of
// CancelReasons; no other change takes a reason.
func Transition(from, to, reason string, at time.Time) (Change, error) {
	if !slices.Contains(next[from], to) {
		return Change{}, &TransitionError{From: from, To: to}
	}
	if (to == StatusCancelled) != (reason != "") || (reason != "" && !slices.Contains(CancelReasons, reason)) {
		return Change{}, fmt.Errorf("cancel reason %q for a change to %s: must be one of %v, and only for a cancellation", reason, to, CancelReasons)
	}
	return Change{Status: to, At: at.UTC(), Reason: reason}, nil
}

// Holds reports whether history has a change to status.
func Holds(history []Change, status string) bool {
	return slices.ContainsFunc(history, func(c Change) bool { return c.Status == status })
}
