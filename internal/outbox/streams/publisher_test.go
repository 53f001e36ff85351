package streams_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
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
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

// fakeEventBridge speaks EventBridge's JSON protocol for PutEvents and fails the
// entries fail chooses.
type fakeEventBridge struct {
	mu    sync.Mutex
	calls [][]putEntry
	got   []putEntry
	fail  func(call int, e putEntry) bool
	down  int // answer this many calls with HTTP 500 first
}

type putEntry struct {
	Source, DetailType, Detail, EventBusName string
}

func (f *fakeEventBridge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Amz-Target") != "AWSEvents.PutEvents" {
		http.Error(w, "unexpected target "+r.Header.Get("X-Amz-Target"), 400)
		return
	}
	var in struct{ Entries []putEntry }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down > 0 {
		f.down--
		w.WriteHeader(500)
		_, _ = io.WriteString(w, `{"__type":"InternalException","message":"down"}`)
		return
	}
	call := len(f.calls)
	f.calls = append(f.calls, in.Entries)
	type result struct {
		EventId      string `json:",omitempty"`
		ErrorCode    string `json:",omitempty"`
		ErrorMessage string `json:",omitempty"`
	}
	out := struct {
		FailedEntryCount int
		Entries          []result
	}{}
	for i, e := range in.Entries {
		if f.fail != nil && f.fail(call, e) {
			out.FailedEntryCount++
			out.Entries = append(out.Entries, result{ErrorCode: "InternalFailure", ErrorMessage: "chosen to fail"})
			continue
		}
		f.got = append(f.got, e)
		out.Entries = append(out.Entries, result{EventId: fmt.Sprintf("e-%d-%d", call, i)})
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

func publisher(t *testing.T, f *fakeEventBridge) *streams.Publisher {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	client := eventbridge.New(eventbridge.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		RetryMaxAttempts: 1,
	})
	return streams.NewPublisher(client, "SwnEventBus", slog.New(slog.NewTextHandler(io.Discard, nil)))
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

	f := &fakeEventBridge{}
	resp, err := publisher(t, f).Handle(context.Background(), awsevents.DynamoDBEvent{Records: []awsevents.DynamoDBEventRecord{insert, modify, deleted, ttl}})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %+v, %v", resp, err)
	}
	if len(f.got) != 3 {
		t.Fatalf("published %d events, want 3: %+v", len(f.got), f.got)
	}
	wantTypes := []string{"ProductChanged", "ProductChanged", "ProductDeleted"}
	for i, e := range f.got {
		if e.Source != "com.swn.catalog.product" || e.DetailType != wantTypes[i] || e.EventBusName != "SwnEventBus" {
			t.Errorf("entry %d = %+v", i, e)
		}
	}
	var changed struct {
		ProductID string          `json:"productId"`
		Price     json.RawMessage `json:"price"`
		Version   int64           `json:"version"`
	}
	if err := json.Unmarshal([]byte(f.got[1].Detail), &changed); err != nil || changed.ProductID != p.ID || string(changed.Price) != "25.00" || changed.Version != 2 {
		t.Fatalf("second detail = %s (%v)", f.got[1].Detail, err)
	}
}

func TestChunksOfTen(t *testing.T) {
	r := newRecorder(t)
	var records []awsevents.DynamoDBEventRecord
	for i := range 23 {
		_, rec := r.create(fmt.Sprintf("P%d", i))
		records = append(records, rec)
	}
	f := &fakeEventBridge{}
	resp, _ := publisher(t, f).Handle(context.Background(), awsevents.DynamoDBEvent{Records: records})
	if len(resp.BatchItemFailures) != 0 || len(f.got) != 23 {
		t.Fatalf("failures %v, published %d", failed(resp), len(f.got))
	}
	for i, c := range f.calls {
		if len(c) > streams.MaxEntries {
			t.Fatalf("call %d carried %d entries", i, len(c))
		}
	}
	if len(f.calls) != 3 {
		t.Fatalf("%d calls, want 3", len(f.calls))
	}
}

func TestFailedEntryIsRetriedThenReported(t *testing.T) {
	r := newRecorder(t)
	var records []awsevents.DynamoDBEventRecord
	for _, name := range []string{"ok-1", "flaky", "poison", "after"} {
		_, rec := r.create(name)
		records = append(records, rec)
	}
	f := &fakeEventBridge{fail: func(call int, e putEntry) bool {
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
	for _, e := range f.got {
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
	f := &fakeEventBridge{down: 2}
	resp, _ := publisher(t, f).Handle(context.Background(), awsevents.DynamoDBEvent{Records: []awsevents.DynamoDBEventRecord{rec}})
	if len(resp.BatchItemFailures) != 0 || len(f.got) != 1 {
		t.Fatalf("after two 500s: failures %v, published %d", failed(resp), len(f.got))
	}
	f = &fakeEventBridge{down: 100}
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
	f := &fakeEventBridge{}
	resp, _ := publisher(t, f).Handle(context.Background(), awsevents.DynamoDBEvent{Records: []awsevents.DynamoDBEventRecord{first, noEvents, bad, second}})
	if got := failed(resp); fmt.Sprint(got) != fmt.Sprint([]string{"bad", second.Change.SequenceNumber}) {
		t.Fatalf("failures = %v", got)
	}
	if len(f.got) != 1 {
		t.Fatalf("published %d, want only the first record's event", len(f.got))
	}
}
