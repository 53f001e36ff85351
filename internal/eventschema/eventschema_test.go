package eventschema_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventshop/eventshop/api"
	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/eventschema"
	"github.com/eventshop/eventshop/internal/money"
)

// The committed schemas are what the Go types make: make schemas writes them.
func TestCommittedSchemasAreGenerated(t *testing.T) {
	want, err := eventschema.Generate()
	if err != nil {
		t.Fatal(err)
	}
	committed, err := fs.Glob(api.EventSchemas, "*.json")
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(maps.Keys(want)); !slices.Equal(committed, got) {
		t.Fatalf("api/events holds %v; the types make %v: run make schemas", committed, got)
	}
	for name, b := range want {
		have, err := fs.ReadFile(api.EventSchemas, name)
		if err != nil {
			t.Fatal(err)
		}
		if string(have) != string(b) {
			t.Errorf("api/events/%s differs from what the Go types make: run make schemas", name)
		}
	}
}

// The committed AsyncAPI document is what the definitions make.
func TestCommittedAsyncAPIIsGenerated(t *testing.T) {
	doc, err := eventschema.AsyncAPI(api.EventSchemas)
	if err != nil {
		t.Fatal(err)
	}
	if string(doc) != string(api.AsyncAPI) {
		t.Fatal("api/asyncapi.yaml differs from what the definitions make: run make schemas")
	}
	for _, want := range []string{"asyncapi: 3.0.0", "action: send", "action: receive", "basket-price-view", "OrderPlaced"} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("the document has no %q", want)
		}
	}
}

// Each schema's example is valid by the schema, and what a consumer decodes
// from it (events.DecodeDetail, into the detail's Go type) is the example:
// the schemas and the consumers agree.
func TestConsumersDecodeTheSchemasExamples(t *testing.T) {
	v, err := eventschema.NewValidator(api.EventSchemas)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range events.Contracts() {
		b, err := fs.ReadFile(api.EventSchemas, eventschema.File(c.DetailType))
		if err != nil {
			t.Fatal(err)
		}
		var schema struct{ Examples []json.RawMessage }
		if err := json.Unmarshal(b, &schema); err != nil || len(schema.Examples) != 1 {
			t.Fatalf("%s: examples %v, %v", c.DetailType, schema.Examples, err)
		}
		example := schema.Examples[0]
		if err := v.Detail(c.DetailType, example); err != nil {
			t.Errorf("%s's example breaks its schema: %v", c.DetailType, err)
		}
		got := reflect.New(reflect.TypeOf(c.Example))
		env := events.Outgoing{ID: "e1", Source: c.Source, DetailType: c.DetailType, Detail: example, Time: time.Now()}.Wrap("1", "r")
		if err := events.DecodeDetail(env, got.Interface()); err != nil {
			t.Errorf("%s: %v", c.DetailType, err)
			continue
		}
		if !reflect.DeepEqual(got.Elem().Interface(), c.Example) {
			t.Errorf("%s decoded as %+v, the example is %+v", c.DetailType, got.Elem().Interface(), c.Example)
		}
	}
}

// Every detail-type a rule routes has a contract, and every contract a schema.
func TestEveryRoutedEventHasAContract(t *testing.T) {
	types := map[string]bool{}
	for _, c := range events.Contracts() {
		types[c.DetailType] = true
	}
	for _, r := range eventbus.Rules() {
		if !slices.ContainsFunc(events.Contracts(), func(c events.Contract) bool {
			return strings.Contains(r.Pattern.JSON(), `"`+c.DetailType+`"`)
		}) {
			t.Errorf("rule %s routes no detail-type a contract names: %s", r.Name, r.Pattern.JSON())
		}
	}
	for _, dt := range []string{events.TypeProductChanged, events.TypeProductDeleted, events.TypeCheckoutBasket, events.TypeOrderPlaced,
		events.TypeOrderCancelled, events.TypeOrderShipped, events.TypeStockReserved, events.TypeStockRejected,
		events.TypePaymentCaptured, events.TypePaymentDeclined, events.TypePaymentRefunded} {
		if !types[dt] {
			t.Errorf("%s has no contract", dt)
		}
	}
}

// The validator takes what the producers write and refuses what breaks a
// schema: a missing field, a wrong type, money with three decimals, a
// field no schema knows, an envelope without its detail-type.
func TestTheValidatorHoldsEventsToTheSchemas(t *testing.T) {
	v, err := eventschema.NewValidator(api.EventSchemas)
	if err != nil {
		t.Fatal(err)
	}
	placed := events.OrderPlaced{OrderRef: events.OrderRef{OrderID: "o1", UserName: "ada"}, Lines: []events.OrderLine{{ProductID: "p1", Quantity: 2}},
		TotalPrice: money.Cents(3998), PaymentMethod: "invoice"}
	good, err := events.New(context.Background(), events.SourceOrdering, events.TypeOrderPlaced, placed, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Detail(good.DetailType, good.Detail); err != nil {
		t.Fatalf("a producer's OrderPlaced: %v", err)
	}
	env, _ := json.Marshal(good.Wrap("123456789012", "us-east-1"))
	if err := v.Envelope(env); err != nil {
		t.Fatalf("its envelope: %v", err)
	}
	for name, detail := range map[string]string{
		"no orderId":               `{"userName":"ada","lines":[],"totalPrice":1,"paymentMethod":"invoice"}`,
		"quantity a string":        `{"orderId":"o1","userName":"ada","lines":[{"productId":"p1","quantity":"2"}],"totalPrice":1,"paymentMethod":"invoice"}`,
		"three decimals":           `{"orderId":"o1","userName":"ada","lines":[],"totalPrice":1.005,"paymentMethod":"invoice"}`,
		"an unknown field":         `{"orderId":"o1","userName":"ada","lines":[],"totalPrice":1,"paymentMethod":"invoice","discount":1}`,
		"lines null (a nil slice)": `{"orderId":"o1","userName":"ada","lines":null,"totalPrice":1,"paymentMethod":"invoice"}`,
	} {
		if err := v.Detail(events.TypeOrderPlaced, []byte(detail)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := v.Detail("Unheard", []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "no schema") {
		t.Errorf("an unknown detail-type: %v", err)
	}
	if err := v.Envelope([]byte(`{"version":"0","id":"1","source":"s","account":"1","time":"2026-01-01T00:00:00Z","region":"r","resources":[],"detail":{}}`)); err == nil {
		t.Error("an envelope without detail-type: accepted")
	}
}

// The schemas stay compatible with the released ones: nothing a consumer of
// a released event reads is removed, retyped or newly required, and no
// released event stops being described.
func TestSchemasStayCompatibleWithTheReleasedOnes(t *testing.T) {
	released, err := fs.Glob(api.ReleasedEventSchemas, "*.json")
	if err != nil || len(released) == 0 {
		t.Fatalf("no released schemas (%v): run make release-schemas", err)
	}
	for _, name := range released {
		old, _ := fs.ReadFile(api.ReleasedEventSchemas, name)
		now, err := fs.ReadFile(api.EventSchemas, name)
		if err != nil {
			t.Errorf("%s was released and is gone: keep publishing it, beside its new version", name)
			continue
		}
		found, err := eventschema.Breaking(old, now)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range found {
			t.Errorf("%s breaks its consumers: %s (a breaking change is a new detail-type, published beside this one)", name, f)
		}
	}
}

func TestBreakingChanges(t *testing.T) {
	const base = `{"type":"object","required":["id","lines"],"properties":{
		"id":{"type":"string"},"note":{"type":"string"},"status":{"type":"string","enum":["A","B"]},
		"lines":{"type":"array","items":{"type":"object","required":["sku"],"properties":{"sku":{"type":"string"},"n":{"type":"integer"}}}}}}`
	for _, tt := range []struct {
		name, new, want string
	}{
		{"an optional field added", `{"type":"object","required":["id","lines"],"properties":{"id":{"type":"string"},"note":{"type":"string"},"extra":{"type":"string"},"status":{"type":"string","enum":["A","B","C"]},"lines":{"type":"array","items":{"type":"object","required":["sku"],"properties":{"sku":{"type":"string"},"n":{"type":"integer"}}}}}}`, ""},
		{"a field removed", `{"type":"object","required":["id","lines"],"properties":{"id":{"type":"string"},"status":{"type":"string","enum":["A","B"]},"lines":{"type":"array","items":{"type":"object","required":["sku"],"properties":{"sku":{"type":"string"},"n":{"type":"integer"}}}}}}`, "note removed"},
		{"a type changed", `{"type":"object","required":["id","lines"],"properties":{"id":{"type":"integer"},"note":{"type":"string"},"status":{"type":"string","enum":["A","B"]},"lines":{"type":"array","items":{"type":"object","required":["sku"],"properties":{"sku":{"type":"string"},"n":{"type":"integer"}}}}}}`, "id: type string became integer"},
		{"a field made required", `{"type":"object","required":["id","lines","note"],"properties":{"id":{"type":"string"},"note":{"type":"string"},"status":{"type":"string","enum":["A","B"]},"lines":{"type":"array","items":{"type":"object","required":["sku"],"properties":{"sku":{"type":"string"},"n":{"type":"integer"}}}}}}`, "note made required"},
		{"an enum value removed", `{"type":"object","required":["id","lines"],"properties":{"id":{"type":"string"},"note":{"type":"string"},"status":{"type":"string","enum":["A"]},"lines":{"type":"array","items":{"type":"object","required":["sku"],"properties":{"sku":{"type":"string"},"n":{"type":"integer"}}}}}}`, "status: enum value B removed"},
		{"a field of an array's items renamed", `{"type":"object","required":["id","lines"],"properties":{"id":{"type":"string"},"note":{"type":"string"},"status":{"type":"string","enum":["A","B"]},"lines":{"type":"array","items":{"type":"object","required":["sku"],"properties":{"sku":{"type":"string"},"count":{"type":"integer"}}}}}}`, "lines[].n removed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			found, err := eventschema.Breaking([]byte(base), []byte(tt.new))
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(found, "; ")
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Fatalf("found %q, want %q", got, tt.want)
			}
		})
	}
}
