package awssim

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	inventorywire "github.com/eventshop/eventshop/internal/inventory/wire"
	"github.com/eventshop/eventshop/internal/ordering"
	orderingdynamo "github.com/eventshop/eventshop/internal/ordering/dynamo"
	orderingwire "github.com/eventshop/eventshop/internal/ordering/wire"
	"github.com/eventshop/eventshop/internal/page"
)

// Report is how a run ended.
type Report struct {
	Seed       uint64
	Faults     map[string]int // injected, by kind
	Orders     map[string]int // by final status
	Accepted   int            // checkouts answered 202
	Violations []string       // broken invariants; none in a good run
	About      []string       // the orders and products the violations name
	Deployment *DeployReport  // the run's deployment, if it had one
}

// reservation is an order's reservation item as the inventory stores it.
type reservation struct {
	ID      string `dynamodbav:"id"`
	Outcome string `dynamodbav:"outcome"`
	Lines   []struct {
		ProductID string `dynamodbav:"productId"`
		Quantity  int    `dynamodbav:"quantity"`
	} `dynamodbav:"lines"`
}

// scan reads every item of the table awsenv variable env names, into out.
func (s *Sim) scan(ctx context.Context, env string, out any) error {
	var items []map[string]types.AttributeValue
	var start map[string]types.AttributeValue
	for {
		res, err := s.db.harness.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(s.tables[env]), ExclusiveStartKey: start, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return err
		}
		items = append(items, res.Items...)
		if start = res.LastEvaluatedKey; len(start) == 0 {
			return attributevalue.UnmarshalListOfMaps(items, out)
		}
	}
}

// sold is the units each product sold: the lines of reservations shipped.
func (s *Sim) sold(ctx context.Context) (map[string]int, error) {
	var rs []reservation
	if err := s.scan(ctx, inventorywire.ReservationTable, &rs); err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, r := range rs {
		if r.Outcome == "shipped" {
			for _, l := range r.Lines {
				out[l.ProductID] += l.Quantity
			}
		}
	}
	return out, nil
}

// report checks the invariants of a quiet shop.
func (s *Sim) report(ctx context.Context, runErr error) (*Report, error) {
	r := &Report{Seed: s.cfg.Seed, Faults: maps.Clone(s.faults), Orders: map[string]int{}, Accepted: len(s.shop.accepted)}
	fail := func(about, format string, args ...any) {
		r.Violations = append(r.Violations, fmt.Sprintf(format, args...))
		r.About = append(r.About, about)
	}
	if runErr != nil {
		fail("", "%v", runErr)
	}
	if d := s.deploying; d != nil {
		r.Deployment = &d.report
		if !d.over() {
			fail("", "the deployment of %s never ended", d.Function)
		}
	}
	for _, err := range s.broke {
		fail("", "%v", err)
	}

	// Orders: every accepted checkout has its order; none is left half way.
	orders := map[string]ordering.Order{}
	store := orderingdynamo.New(s.db, s.tables[orderingwire.Table])
	for req := (page.Request{Limit: 100}); ; {
		p, err := store.List(ctx, "", req) // through the status index: an order missing from it fails the check
		if err != nil {
			return nil, err
		}
		for _, o := range p.Items {
			orders[o.OrderID] = o
			r.Orders[o.Status]++
		}
		if p.NextToken == "" {
			break
		}
		req.Token = p.NextToken
	}
	for _, c := range s.shop.accepted {
		o, ok := orders[c.orderID]
		switch {
		case !ok:
			fail(c.orderID, "accepted checkout %s has no order", c.orderID)
		case o.UserName != c.user:
			fail(c.orderID, "order %s belongs to %s, checked out by %s", c.orderID, o.UserName, c.user)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(orders)) {
		o := orders[id]
		if o.Status == ordering.StatusPlaced || o.Status == ordering.StatusReserved {
			fail(id, "order %s left %s", id, o.Status)
		}
		if o.PaymentMethod == "test-decline" && ordering.Holds(o.History, ordering.StatusPaid) {
			fail(id, "order %s paid by test-decline", id)
		}
		seen := map[string]int{}
		for _, c := range o.History {
			seen[c.Status]++
		}
		for status, n := range seen {
			if n > 1 {
				fail(id, "order %s has %s %d times in its history", id, status, n)
			}
		}
		charged := seen[ordering.StatusPaid] > 0 || seen[ordering.StatusPaymentCaptured] > 0
		if o.Status == ordering.StatusCancelled && charged != (seen[ordering.StatusRefunded] == 1) {
			fail(id, "cancelled order %s: charged %v, refunded %d times", id, charged, seen[ordering.StatusRefunded])
		}
	}

	// Stock: what the admin brought in is available, held or sold; what is
	// held, only paid orders hold.
	var rs []reservation
	if err := s.scan(ctx, inventorywire.ReservationTable, &rs); err != nil {
		return nil, err
	}
	held, sold := map[string]int{}, map[string]int{}
	for _, res := range rs {
		o, known := orders[res.ID]
		for _, l := range res.Lines {
			switch res.Outcome {
			case "reserved":
				held[l.ProductID] += l.Quantity
			case "shipped":
				sold[l.ProductID] += l.Quantity
			}
		}
		switch {
		case res.Outcome == "reserved" && len(res.Lines) > 0 && (!known || o.Status != ordering.StatusPaid):
			fail(res.ID, "order %s (%s) still holds stock: %+v", res.ID, o.Status, res.Lines)
		case res.Outcome == "shipped" && o.Status != ordering.StatusShipped:
			fail(res.ID, "the stock of order %s (%s) was sold", res.ID, o.Status)
		}
	}
	for _, p := range s.shop.products {
		st, err := s.shop.stock.Get(ctx, p.id)
		if err != nil {
			fail(p.id, "stock of %s: %v", p.id, err)
			continue
		}
		if st.Available < 0 || st.Reserved < 0 {
			fail(p.id, "stock of %s below zero: %+v", p.id, st)
		}
		if st.Reserved != held[p.id] {
			fail(p.id, "stock of %s: %d reserved, reservations hold %d", p.id, st.Reserved, held[p.id])
		}
		if supply, tracked := s.shop.supply[p.id]; tracked && st.Available+st.Reserved+sold[p.id] != supply {
			fail(p.id, "stock of %s: %d available + %d reserved + %d sold ≠ %d brought in", p.id, st.Available, st.Reserved, sold[p.id], supply)
		}
	}

	// Nothing set aside: every dead-letter queue empty, no parked record.
	for _, q := range s.queues {
		for _, m := range q.dead {
			about := strings.Fields(summary(m.body)) // the detail-type, then what it is about: "order <id>"
			fail(about[len(about)-1], "dead letter on %s: %s", q.rule.DeadLetterQueue(), summary(m.body))
		}
	}
	parked, err := s.parking.All(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range parked {
		fail("", "parked stream record %s: %s", p.ID, p.Reason)
	}
	return r, nil
}

// String is the report in a few lines.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d: %d checkouts accepted; orders %v; faults %v", r.Seed, r.Accepted, r.Orders, r.Faults)
	if r.Deployment != nil {
		fmt.Fprintf(&b, "\n  %v", r.Deployment)
	}
	for _, v := range r.Violations {
		fmt.Fprintf(&b, "\n  VIOLATED: %s", v)
	}
	return b.String()
}
