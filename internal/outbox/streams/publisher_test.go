package streams_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"

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
	"github.com/eventshop/eventshop/internal/outbox/streams"
	"github.com/eventshop/eventshop/internal/outbox/streams/eventbridgetest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

func publisher(t *testing.T, f *eventbridgetest.Bus) *streams.Publisher {
	client := eventbridge.New(eventbridge.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(eventbridgetest.Start(t, f)),
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		RetryMaxAttempts: 1,
	})
	return streams.NewPublisher(client, "SwnEventBus", slog.New(slog.DiscardHandler))
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
			NewImage:       image(out.Item),
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

func image(item map[string]ddbtypes.AttributeValue) map[string]awsevents.DynamoDBAttributeValue {
	out := make(map[string]awsevents.DynamoDBAttributeValue, len(item))
	for k, v := range item {
		out[k] = convert(v)
	}
	return out
}

func convert(v ddbtypes.AttributeValue) awsevents.DynamoDBAttributeValue {
	switch v := v.(type) {
	case *ddbtypes.AttributeValueMemberS:
		return awsevents.NewStringAttribute(v.Value)
	case *ddbtypes.AttributeValueMemberN:
		return awsevents.NewNumberAttribute(v.Value)
	case *ddbtypes.AttributeValueMemberBOOL:
		return awsevents.NewBooleanAttribute(v.Value)
	case *ddbtypes.AttributeValueMemberL:
		l := make([]awsevents.DynamoDBAttributeValue, len(v.Value))
		for i, e := range v.Value {
			l[i] = convert(e)
		}
		return awsevents.NewListAttribute(l)
	case *ddbtypes.AttributeValueMemberM:
		return awsevents.NewMapAttribute(image(v.Value))
	default:
		return awsevents.NewNullAttribute()
	}
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
	resp, err := publisher(t, f).Handle(context.Background(), awsevents.DynamoDBEvent{Records: []awsevents.DynamoDBEventRecord{insert, modify, deleted, ttl}})
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
	resp, _ := publisher(t, f).Handle(context.Background(), awsevents.DynamoDBEvent{Records: records})
	if len(resp.BatchItemFailures) != 0 || len(f.Published()) != 23 {
		t.Fatalf("failures %v, published %d", failed(resp), len(f.Published()))
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

func TestFailedEntryIsRetriedThenReported(t *testing.T) {
	r := newRecorder(t)
	var records []awsevents.DynamoDBEventRecord
	for _, name := range []string{"ok-1", "flaky", "poison", "after"} {
		_, rec := r.create(name)
		records = append(records, rec)
	}
	f := &eventbridgetest.Bus{Fail: func(call int, e eventbridgetest.Entry) bool {
		return strings.Contains(e.Detail, `"poison"`) || (strings.Contains(e.Detail, `"flaky"`) && call == 0)
	}}
	resp, err := publisher(t, f).Handle(context.Background(), awsevents.DynamoDBEvent{Records: records})
	if err != nil {
		t.Fatal(err)
	}
	// The call returned no error, but entries carried ErrorCodes: "flaky" went
	// through on its retry; "poison" never did, so it and every later record
	// are reported and the stream retries from it.
	want := []string{records[2].Change.SequenceNumber, records[3].Change.SequenceNumber}
	if got := failed(resp); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("failures = %v, want %v", got, want)
	}
	var names []string
	for _, e := range f.Published() {
		var d struct{ Name string }
		_ = json.Unmarshal([]byte(e.Detail), &d)
		names = append(names, d.Name)
	}
	if fmt.Sprint(names) != "[ok-1 after flaky]" {
		t.Fatalf("published %v, want ok-1 and after on the first call, flaky on the retry", names)
	}
}

func TestCallErrorsAreRetried(t *testing.T) {
	r := newRecorder(t)
	_, rec := r.create("Widget")
	f := &eventbridgetest.Bus{Down: 2}
	resp, _ := publisher(t, f).Handle(context.Background(), awsevents.DynamoDBEvent{Records: []awsevents.DynamoDBEventRecord{rec}})
	if len(resp.BatchItemFailures) != 0 || len(f.Published()) != 1 {
		t.Fatalf("after two 500s: failures %v, published %d", failed(resp), len(f.Published()))
	}
	f = &eventbridgetest.Bus{Down: 100}
	resp, _ = publisher(t, f).Handle(context.Background(), awsevents.DynamoDBEvent{Records: []awsevents.DynamoDBEventRecord{rec}})
	if got := failed(resp); len(got) != 1 || got[0] != rec.Change.SequenceNumber {
		t.Fatalf("bus down: failures %v, want the record", got)
	}
}

func TestUnreadableOutboxStopsTheBatch(t *testing.T) {
	r := newRecorder(t)
	_, first := r.create("first")
	_, second := r.create("second")
	bad := second
	bad.Change.NewImage = map[string]awsevents.DynamoDBAttributeValue{"outbox": awsevents.NewStringAttribute("{not json")}
	bad.Change.SequenceNumber = "bad"
	noEvents := first
	noEvents.Change.NewImage = map[string]awsevents.DynamoDBAttributeValue{"id": first.Change.NewImage["id"]}
	f := &eventbridgetest.Bus{}
	resp, _ := publisher(t, f).Handle(context.Background(), awsevents.DynamoDBEvent{Records: []awsevents.DynamoDBEventRecord{first, noEvents, bad, second}})
	if got := failed(resp); fmt.Sprint(got) != fmt.Sprint([]string{"bad", second.Change.SequenceNumber}) {
		t.Fatalf("failures = %v", got)
	}
	if len(f.Published()) != 1 {
		t.Fatalf("published %d, want only the first record's event", len(f.Published()))
	}
}
