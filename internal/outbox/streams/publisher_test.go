package streams_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/eventshop/eventshop/internal/catalog"
	"github.com/eventshop/eventshop/internal/catalog/app"
	catalogdynamo "github.com/eventshop/eventshop/internal/catalog/dynamo"
	"github.com/eventshop/eventshop/internal/dynamotest"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/outbox/outboxitem"
	"github.com/eventshop/eventshop/internal/outbox/streams"
	"github.com/eventshop/eventshop/internal/outbox/streams/eventbridgetest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

// publisher publishes to f events of the services' sources (every one's if
// none is named) and parks in a fresh table of dynalite's, with backoff in
// milliseconds instead of seconds.
func publisher(t *testing.T, f *eventbridgetest.Bus, services ...string) (*streams.Publisher, *streams.ParkingTable) {
	client := eventbridge.New(eventbridge.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(eventbridgetest.Start(t, f)),
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		RetryMaxAttempts: 1,
	})
	db := dynamotest.Client(t)
	parking := streams.NewParkingTable(db, dynamotest.Table(t, db, streams.ParkingTableInput))
	return streams.NewPublisher(client, "SwnEventBus", events.SourcesOf(services...), parking, slog.New(slog.DiscardHandler), streams.WithBackoff(time.Millisecond, 8*time.Millisecond)), parking
}

func handle(t *testing.T, p *streams.Publisher, ctx context.Context, records ...awsevents.DynamoDBEventRecord) []string {
	t.Helper()
	resp, err := p.Handle(ctx, awsevents.DynamoDBEvent{Records: records})
	if err != nil {
		t.Fatal(err)
	}
	return failed(resp)
}

func names(t *testing.T, entries []eventbridgetest.Entry) []string {
	t.Helper()
	var out []string
	for _, e := range entries {
		var d struct{ Name string }
		if err := json.Unmarshal([]byte(e.Detail), &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d.Name)
	}
	return out
}

// recorder writes products through the real DynamoDB adapter and turns each
// item it wrote, read back from dynalite, into a stream record.
type recorder struct {
	t     *testing.T
	db    *dynamodb.Client
	table string
	uc    *app.Catalog
	seq   int
}

func newRecorder(t *testing.T) *recorder {
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db, catalogdynamo.TableInput)
	return &recorder{t: t, db: db, table: table, uc: app.New(catalogdynamo.New(db, table))}
}

func (r *recorder) record(id, eventName string) awsevents.DynamoDBEventRecord {
	r.t.Helper()
	out, err := r.db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &r.table, Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: id}}})
	if err != nil || len(out.Item) == 0 {
		r.t.Fatalf("read back %s: %v", id, err)
	}
	r.seq++
	return awsevents.DynamoDBEventRecord{
		EventName: eventName,
		Change: awsevents.DynamoDBStreamRecord{
			SequenceNumber: fmt.Sprintf("%021d", r.seq),
			Keys:           map[string]awsevents.DynamoDBAttributeValue{"id": awsevents.NewStringAttribute(id)},
			NewImage:       dynamotest.StreamImage(out.Item),
			StreamViewType: "NEW_IMAGE",
		},
	}
}

func (r *recorder) create(name string) (catalog.Product, awsevents.DynamoDBEventRecord) {
	r.t.Helper()
	p, err := r.uc.Create(context.Background(), catalog.Details{Name: name, Category: "Tools", Price: 1999})
	if err != nil {
		r.t.Fatal(err)
	}
	return p, r.record(p.ID, "INSERT")
}

func failed(resp awsevents.DynamoDBEventResponse) []string {
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

func TestPublishesWhatTheAdapterWrote(t *testing.T) {
	r := newRecorder(t)
	p, insert := r.create("Widget")
	if _, err := r.uc.Update(context.Background(), p.ID, catalog.Details{Name: "Widget", Category: "Tools", Price: 2500}, 0); err != nil {
		t.Fatal(err)
	}
	modify := r.record(p.ID, "MODIFY")
	if err := r.uc.Delete(context.Background(), p.ID); err != nil {
		t.Fatal(err)
	}
	deleted := r.record(p.ID, "MODIFY") // a soft delete is a write that carries its event
	ttl := deleted
	ttl.EventName = "REMOVE"

	f := &eventbridgetest.Bus{}
	pub, _ := publisher(t, f)
	resp, err := pub.Handle(context.Background(), awsevents.DynamoDBEvent{Records: []awsevents.DynamoDBEventRecord{insert, modify, deleted, ttl}})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %+v, %v", resp, err)
	}
	if len(f.Published()) != 3 {
		t.Fatalf("published %d events, want 3: %+v", len(f.Published()), f.Published())
	}
	wantTypes := []string{"ProductChanged", "ProductChanged", "ProductDeleted"}
	for i, e := range f.Published() {
		if e.Source != "com.swn.catalog.product" || e.DetailType != wantTypes[i] || e.EventBusName != "SwnEventBus" {
			t.Errorf("entry %d = %+v", i, e)
		}
	}
	var changed struct {
		ProductID string          `json:"productId"`
		Price     json.RawMessage `json:"price"`
		Version   int64           `json:"version"`
	}
	if err := json.Unmarshal([]byte(f.Published()[1].Detail), &changed); err != nil || changed.ProductID != p.ID || string(changed.Price) != "25.00" || changed.Version != 2 {
		t.Fatalf("second detail = %s (%v)", f.Published()[1].Detail, err)
	}
}

func TestChunksOfTen(t *testing.T) {
	r := newRecorder(t)
	var records []awsevents.DynamoDBEventRecord
	for i := range 23 {
		_, rec := r.create(fmt.Sprintf("P%d", i))
		records = append(records, rec)
	}
	f := &eventbridgetest.Bus{}
	pub, _ := publisher(t, f)
	if got := handle(t, pub, t.Context(), records...); len(got) != 0 || len(f.Published()) != 23 {
		t.Fatalf("failures %v, published %d", got, len(f.Published()))
	}
	for i, c := range f.Calls() {
		if len(c) > streams.MaxEntries {
			t.Fatalf("call %d carried %d entries", i, len(c))
		}
	}
	if len(f.Calls()) != 3 {
		t.Fatalf("%d calls, want 3", len(f.Calls()))
	}
}

// raw makes a stream record whose outbox holds evts.
func raw(t *testing.T, seq string, evts ...events.Outgoing) awsevents.DynamoDBEventRecord {
	t.Helper()
	av, err := outboxitem.Encode(evts)
	if err != nil {
		t.Fatal(err)
	}
	return awsevents.DynamoDBEventRecord{
		EventName:      "INSERT",
		EventSourceArn: "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/s",
		Change: awsevents.DynamoDBStreamRecord{
			SequenceNumber: seq,
			NewImage:       map[string]awsevents.DynamoDBAttributeValue{outboxitem.Attribute: awsevents.NewStringAttribute(av.(*ddbtypes.AttributeValueMemberS).Value)},
		},
	}
}

func named(t *testing.T, name string) events.Outgoing {
	t.Helper()
	e, err := events.New(context.Background(), events.SourceCatalog, events.TypeProductChanged, map[string]string{"name": name}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// A 50-line checkout whose product names are 200 characters of <, > and &
// (each escaped to six bytes in JSON) or CJK text weighs 40 to 70 KB: calls
// are split by size, never over 256 KB, and everything goes through.
func TestSplitsBySize(t *testing.T) {
	var records []awsevents.DynamoDBEventRecord
	for i := range 12 {
		name := strings.Repeat("<>&", 67)[:200]
		if i%2 == 1 {
			name = string([]rune(strings.Repeat("商品名", 67))[:200])
		}
		c := events.CheckoutBasket{CheckoutID: fmt.Sprintf("c%d", i), UserName: "alice"}
		for j := range 50 {
			c.Lines = append(c.Lines, events.CheckoutLine{ProductID: fmt.Sprintf("p%d", j), ProductName: name, Quantity: 1, UnitPrice: 100, LineTotal: 100})
		}
		e, err := events.New(context.Background(), events.SourceCheckout, events.TypeCheckoutBasket, c, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if size := streams.EntrySize(e.Source, e.DetailType, string(e.Detail)); size < 30_000 || size > 80_000 {
			t.Fatalf("checkout %d weighs %d bytes; the test wants 30-80 KB", i, size)
		}
		records = append(records, raw(t, fmt.Sprintf("%03d", i), e))
	}
	f := &eventbridgetest.Bus{}
	pub, _ := publisher(t, f)
	if got := handle(t, pub, t.Context(), records...); len(got) != 0 {
		t.Fatalf("failures %v", got)
	}
	if f.Rejected() != 0 || len(f.Published()) != 12 {
		t.Fatalf("%d calls over the limit, %d published", f.Rejected(), len(f.Published()))
	}
	for i, c := range f.Calls() {
		size := 0
		for _, e := range c {
			size += streams.EntrySize(e.Source, e.DetailType, e.Detail)
		}
		if size > streams.MaxRequestBytes || len(c) > streams.MaxEntries {
			t.Fatalf("call %d: %d entries, %d bytes", i, len(c), size)
		}
	}
}

// Throttling and internal failures are retried with backoff until they pass;
// a failed call too.
func TestRetryableFailuresAreRetried(t *testing.T) {
	f := &eventbridgetest.Bus{Down: 1, Fail: func(call int, e eventbridgetest.Entry) string {
		switch {
		case call < 2 && strings.Contains(e.Detail, "throttled"):
			return "ThrottlingException"
		case call < 3 && strings.Contains(e.Detail, "internal"):
			return "InternalFailure"
		}
		return ""
	}}
	pub, parking := publisher(t, f)
	got := handle(t, pub, t.Context(), raw(t, "1", named(t, "ok")), raw(t, "2", named(t, "throttled")), raw(t, "3", named(t, "internal")))
	if len(got) != 0 {
		t.Fatalf("failures %v", got)
	}
	if n := names(t, f.Published()); fmt.Sprint(n) != "[ok throttled internal]" {
		t.Fatalf("published %v", n)
	}
	if all, _ := parking.All(t.Context()); len(all) != 0 {
		t.Fatalf("parked %+v", all)
	}
}

// When retries run out before the invocation does, the failing record and the
// later ones are reported for the event source to retry: nothing is dropped,
// and nothing is parked that a retry could still publish.
func TestRetriesExhaustedReportWithoutDiscarding(t *testing.T) {
	f := &eventbridgetest.Bus{Fail: func(_ int, e eventbridgetest.Entry) string {
		if strings.Contains(e.Detail, "throttled") {
			return "ThrottlingException"
		}
		return ""
	}}
	pub, parking := publisher(t, f)
	// The invocation is nearly out of time: the publisher keeps its margin.
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	got := handle(t, pub, ctx, raw(t, "1", named(t, "ok")), raw(t, "2", named(t, "throttled")), raw(t, "3", named(t, "after")))
	if fmt.Sprint(got) != "[2 3]" {
		t.Fatalf("failures %v, want the throttled record and the one after it", got)
	}
	if all, _ := parking.All(t.Context()); len(all) != 0 {
		t.Fatalf("parked %+v", all)
	}
}

// A record still failing after ParkAfter is parked with its events instead of
// being left to expire from the stream.
func TestARecordTooOldToWaitIsParked(t *testing.T) {
	f := &eventbridgetest.Bus{Fail: func(int, eventbridgetest.Entry) string { return "ThrottlingException" }}
	pub, parking := publisher(t, f)
	old := raw(t, "1", named(t, "old"))
	old.Change.ApproximateCreationDateTime = awsevents.SecondsEpochTime{Time: time.Now().Add(-streams.ParkAfter - time.Minute)}
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	if got := handle(t, pub, ctx, old); len(got) != 0 {
		t.Fatalf("failures %v, want the old record parked instead", got)
	}
	all, err := parking.All(t.Context())
	if err != nil || len(all) != 1 || len(all[0].Events) != 1 || !strings.Contains(all[0].Reason, "retention") {
		t.Fatalf("parked %+v, %v", all, err)
	}
}

// A poison entry (malformed, not allowed, or over the size limit) and an
// unreadable outbox are parked with their content; the records after them go on.
func TestPoisonIsParkedAndTheShardGoesOn(t *testing.T) {
	f := &eventbridgetest.Bus{Fail: func(_ int, e eventbridgetest.Entry) string {
		if strings.Contains(e.Detail, "poison") {
			return "MalformedDetail"
		}
		return ""
	}}
	pub, parking := publisher(t, f)
	huge := named(t, strings.Repeat("x", streams.MaxRequestBytes))
	unreadable := raw(t, "3")
	unreadable.Change.NewImage[outboxitem.Attribute] = awsevents.NewStringAttribute("{not json")
	got := handle(t, pub, t.Context(),
		raw(t, "1", named(t, "ok-1"), named(t, "poison")), raw(t, "2", huge), unreadable, raw(t, "4", named(t, "after")))
	if len(got) != 0 {
		t.Fatalf("failures %v, want none: poison must not block the shard", got)
	}
	if n := names(t, f.Published()); fmt.Sprint(n) != "[ok-1 after]" {
		t.Fatalf("published %v", n)
	}
	all, err := parking.All(t.Context())
	if err != nil || len(all) != 3 {
		t.Fatalf("parked %+v, %v; want three records", all, err)
	}
	byID := map[string]streams.Parked{}
	for _, p := range all {
		byID[p.ID[strings.LastIndex(p.ID, "|")+1:]] = p
	}
	if p := byID["1"]; len(p.Events) != 1 || !strings.Contains(string(p.Events[0].Detail), "poison") {
		t.Errorf("record 1 parked %+v, want only the poison event", p)
	}
	if p := byID["2"]; len(p.Events) != 1 || p.Events[0].ID != huge.ID {
		t.Errorf("record 2 parked %+v, want the oversized event", p)
	}
	if p := byID["3"]; p.Raw != "{not json" || !strings.Contains(p.Reason, "unreadable") {
		t.Errorf("record 3 parked %+v, want the raw outbox", p)
	}
}

// A publisher sends only its table's service's sources: an event of
// another's, which anything that may write the table could put in its
// outbox, is parked (and alarmed, as every parked record), never sent, and
// Republish leaves it for a person.
func TestAForeignSourceIsParkedNotSent(t *testing.T) {
	f := &eventbridgetest.Bus{}
	pub, parking := publisher(t, f, events.ServiceCatalog)
	forged, err := events.New(context.Background(), events.SourcePayment, events.TypePaymentCaptured, map[string]string{"name": "forged"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got := handle(t, pub, t.Context(), raw(t, "1", named(t, "ok"), forged)); len(got) != 0 {
		t.Fatalf("failures %v, want none", got)
	}
	if n := names(t, f.Published()); fmt.Sprint(n) != "[ok]" {
		t.Fatalf("published %v, want the catalog's event alone", n)
	}
	all, err := parking.All(t.Context())
	if err != nil || len(all) != 1 || len(all[0].Events) != 1 || all[0].Events[0].Source != events.SourcePayment ||
		!strings.Contains(all[0].Reason, events.SourcePayment) {
		t.Fatalf("parked %+v, %v; want the forged event, its source named", all, err)
	}
	republished, left, err := streams.Republish(t.Context(), parking, pub)
	if err != nil || republished != 0 || left != 1 || len(f.Published()) != 1 {
		t.Fatalf("republish: %d sent, %d left, %v; want it left parked", republished, left, err)
	}
}

// If parking itself fails, the record is reported for a retry, not dropped.
func TestParkingFailureReportsTheRecord(t *testing.T) {
	f := &eventbridgetest.Bus{Fail: func(int, eventbridgetest.Entry) string { return "MalformedDetail" }}
	client := eventbridge.New(eventbridge.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(eventbridgetest.Start(t, f)),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), RetryMaxAttempts: 1,
	})
	broken := streams.NewParkingTable(dynamotest.Client(t), "no-such-table")
	pub := streams.NewPublisher(client, "SwnEventBus", events.SourcesOf(events.ServiceCatalog), broken, slog.New(slog.DiscardHandler), streams.WithBackoff(time.Millisecond, time.Millisecond))
	if got := handle(t, pub, t.Context(), raw(t, "1", named(t, "x")), raw(t, "2", named(t, "y"))); fmt.Sprint(got) != "[1 2]" {
		t.Fatalf("failures %v, want both records", got)
	}
}

// Republish sends parked events again once the cause is gone, and empties the
// table of what it sent; a raw outbox stays for a person.
func TestRepublish(t *testing.T) {
	var poisoned atomic.Bool
	poisoned.Store(true)
	f := &eventbridgetest.Bus{Fail: func(_ int, e eventbridgetest.Entry) string {
		if poisoned.Load() && strings.Contains(e.Detail, "poison") {
			return "NotAuthorizedForSourceException"
		}
		return ""
	}}
	pub, parking := publisher(t, f)
	unreadable := raw(t, "3")
	unreadable.Change.NewImage[outboxitem.Attribute] = awsevents.NewStringAttribute("{not json")
	if got := handle(t, pub, t.Context(), raw(t, "1", named(t, "poison-1")), raw(t, "2", named(t, "poison-2"), named(t, "ok")), unreadable); len(got) != 0 {
		t.Fatal(got)
	}
	poisoned.Store(false) // the permission was fixed
	n, left, err := streams.Republish(t.Context(), parking, pub)
	if err != nil || n != 2 || left != 1 {
		t.Fatalf("Republish = %d, %d, %v; want 2 republished, 1 left", n, left, err)
	}
	if got := names(t, f.Published()); len(got) != 3 || !slices.Contains(got, "poison-1") || !slices.Contains(got, "poison-2") {
		t.Fatalf("published %v", got)
	}
	all, _ := parking.All(t.Context())
	if len(all) != 1 || all[0].Raw == "" {
		t.Fatalf("left parked %+v, want the raw one only", all)
	}
}
