// Package inventory is the inventory service's domain: stock per product, and
// reservations that hold every line of an order or none, so that the shop
// never sells what it does not have. A product is untracked until an admin
// sets its stock; untracked products are always reservable, and so is a
// product whose announcement has not arrived yet.
package inventory

import (
	"context"
	"fmt"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/kind"
	"github.com/eventshop/eventshop/internal/validation"
)

// Domain outcomes.
var (
	ErrNotFound        = kind.New(kind.NotFound, "the catalog has not announced this product")
	ErrVersionConflict = kind.New(kind.Conflict, "stock was changed by another request; read it again and retry")
	ErrDeleted         = kind.New(kind.Unprocessable, "the product was deleted from the catalog")
	ErrNotTracked      = kind.New(kind.Unprocessable, "the product's stock is not tracked yet: set it before adjusting it")
	ErrOutOfRange      = kind.New(kind.Unprocessable, fmt.Sprintf("the adjustment would take the units available below 0 or above %d", MaxAvailable))
)

// MaxAvailable is the most units of a product the shop may hold.
const MaxAvailable = 1_000_000

// MaxLines is the most products one order may reserve: on DynamoDB a
// reservation is one transaction of at most 100 actions, one for the
// order's reservation and one per product.
const MaxLines = 99

// Stock is what the shop holds of one product.
type Stock struct {
	ProductID      string
	Tracked        bool  // set by an admin; an untracked product is always reservable
	Available      int   // units free to reserve
	Reserved       int   // units held by orders
	Deleted        bool  // the catalog deleted the product: nothing more is reserved
	Version        int64 // counts every change of Tracked, Available or Reserved, for an admin's optimistic lock
	CatalogVersion int64 // the catalog version last announced
}

// Need is what an order needs of one product.
type Need struct {
	ProductID string
	Quantity  int
}

// ValidateLines checks an order's lines: each product once, 1 unit or more.
func ValidateLines(lines []Need) error {
	if len(lines) == 0 {
		return validation.Field("lines", "must not be empty")
	}
	if len(lines) > MaxLines {
		return validation.Field("lines", "must hold at most %d products", MaxLines)
	}
	seen := map[string]bool{}
	for i, l := range lines {
		field := fmt.Sprintf("lines[%d]", i)
		if err := validation.ID(field+".productId", l.ProductID); err != nil {
			return err
		}
		if l.Quantity < 1 || l.Quantity > MaxAvailable {
			return validation.Field(field+".quantity", "must be from 1 to %d", MaxAvailable)
		}
		if seen[l.ProductID] {
			return validation.Field(field, "repeats product %s", l.ProductID)
		}
		seen[l.ProductID] = true
	}
	return nil
}

// Merge adds up the lines of the same product: an order may hold one product
// in several colours, but stock counts units.
func Merge(lines []Need) []Need {
	var out []Need
	at := map[string]int{}
	for _, l := range lines {
		if i, ok := at[l.ProductID]; ok {
			out[i].Quantity += l.Quantity
			continue
		}
		at[l.ProductID] = len(out)
		out = append(out, l)
	}
	return out
}

// AdjustRefused says why adjusting stock that was was by delta was refused: the outcome the
// store's condition stood for.
func AdjustRefused(was Stock, delta int) error {
	switch {
	case was.Deleted:
		return ErrDeleted
	case !was.Tracked:
		return ErrNotTracked
	case was.Available+delta < 0 || was.Available+delta > MaxAvailable:
		return ErrOutOfRange
	}
	return ErrVersionConflict // changed between the write and the read of why
}

// ReservationOutcome is how a reservation ended.
type ReservationOutcome string

// Outcomes of Reserve.
const (
	Reserved           ReservationOutcome = "reserved"                      // every line is held
	OutOfStock         ReservationOutcome = events.ReasonOutOfStock         // a line wanted more than was available: nothing is held
	ProductUnavailable ReservationOutcome = events.ReasonProductUnavailable // a product was deleted: nothing is held
	AlreadyReleased    ReservationOutcome = "already_released"              // the order was released first (cancelled): nothing is held
)

// Hold is what reserving one line does to its product's stock: Quantity
// leaves available for reserved if the product is Tracked; an untracked
// one is only checked to be untracked still.
type Hold struct {
	ProductID string
	Quantity  int
	Tracked   bool
}

// Plan is a reservation decided: Reserved, with a hold per line; or a
// refusal (OutOfStock, ProductUnavailable, which outweighs it) with the
// products short, deleted or with fewer units available than their line
// wants, in the order of the lines.
type Plan struct {
	Outcome ReservationOutcome
	Short   []string
	Holds   []Hold
}

// PlanReservation decides the reservation of lines from the stock read of
// their products. A product absent from stock was never announced (its
// event is on its way, and the basket checks out only announced ones):
// untracked, so reservable. It is the rule both stores apply; they read,
// call it, and write what it says.
func PlanReservation(lines []Need, stock map[string]Stock) Plan {
	p := Plan{Outcome: Reserved}
	for _, l := range lines {
		st := stock[l.ProductID]
		switch {
		case st.Deleted:
			p.Outcome, p.Short = ProductUnavailable, append(p.Short, l.ProductID)
		case st.Tracked && st.Available < l.Quantity:
			p.Short = append(p.Short, l.ProductID)
			if p.Outcome == Reserved {
				p.Outcome = OutOfStock
			}
		}
		p.Holds = append(p.Holds, Hold{ProductID: l.ProductID, Quantity: l.Quantity, Tracked: st.Tracked})
	}
	if p.Outcome != Reserved {
		p.Holds = nil
	}
	return p
}

// EmitReserve returns the events that record a reservation's outcome; the
// store commits them with the reservation, or with the refusal. For a
// refusal, short names the products whose lines could not be held (deleted,
// or with too few units available), in the order of the lines.
type EmitReserve func(o ReservationOutcome, short []string) ([]events.Outgoing, error)

// EmitRelease returns the events that record a release of lines.
type EmitRelease func(released []Need) ([]events.Outgoing, error)

// Store keeps stock, one item per product, and reservations, one per order.
// Every operation is idempotent: delivered twice, it changes nothing the
// second time and reports the same outcome.
type Store interface {
	// Get returns a product's stock, or ErrNotFound if it was never announced.
	Get(ctx context.Context, productID string) (Stock, error)
	// Announce records that the catalog holds productID at catalogVersion, or
	// deleted it; an announcement not newer than the last is ignored. It
	// reports whether it changed anything.
	Announce(ctx context.Context, productID string, catalogVersion int64, deleted bool) (bool, error)
	// SetAvailable sets the units free to reserve of an announced product and
	// makes it tracked. With ifVersion not 0, the stock must still be at that
	// version (ErrVersionConflict). ErrNotFound, ErrDeleted as they say.
	SetAvailable(ctx context.Context, productID string, available int, ifVersion int64) (Stock, error)
	// Adjust adds delta (negative to take away) to the units free to reserve
	// of a tracked product: ErrNotTracked, ErrDeleted, ErrNotFound as they
	// say, ErrOutOfRange if the result would leave 0 to MaxAvailable.
	Adjust(ctx context.Context, productID string, delta int) (Stock, error)
	// Reserve holds every line for orderID, or none, and commits the events
	// emit gives for the outcome with it. A reservation made before is
	// reported again, without new events; one released before it was made
	// (a cancellation that came first) takes nothing: AlreadyReleased. emit
	// may be called for an outcome a store then does not commit (its write
	// was overtaken); only the events of the outcome reported are committed.
	Reserve(ctx context.Context, orderID string, lines []Need, emit EmitReserve) (ReservationOutcome, error)
	// Release gives back what orderID holds, with the events emit gives for
	// the lines released. Releasing an order that holds nothing records the
	// release, so that a reservation arriving late takes nothing.
	Release(ctx context.Context, orderID string, emit EmitRelease) error
	// Commit turns what orderID holds into units sold (the order shipped):
	// they leave Reserved and never return to Available; a later release
	// gives nothing back.
	Commit(ctx context.Context, orderID string) error
}
