package events

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// fill sets every field of v, recursively, to a value that is not zero.
func fill(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString("s" + string(rune('a'+*n%26)) + " é \u2028 <&>")
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(*n * 101))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Float64:
		v.SetFloat(float64(*n) + 0.25)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(s.Index(i), n)
		}
		v.Set(s)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 11, 28, 19, 0, *n, 123456789, time.UTC)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), n)
			}
		}
	}
}

// Every event's detail, encoded as New encodes it, decodes with DecodeDetail
// (go-json-experiment's decoder) as encoding/json decodes it, and so does
// its envelope with Unwrap.
func TestDetailsDecodeAsEncodingJSONDoes(t *testing.T) {
	for _, sample := range []any{ProductChanged{}, ProductDeleted{}, CheckoutBasket{}, OrderPlaced{}, OrderCancelled{},
		OrderShipped{}, StockReserved{}, StockRejected{}, PaymentCaptured{}, PaymentDeclined{}, PaymentRefunded{}} {
		typ := reflect.TypeOf(sample)
		v := reflect.New(typ)
		n := 0
		fill(v.Elem(), &n)
		e, err := New(context.Background(), "eventshop.test", typ.Name(), v.Interface(), time.Date(2026, 11, 28, 19, 0, 0, 1, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		body, err := json.Marshal(e.Wrap("000000000000", "local"))
		if err != nil {
			t.Fatal(err)
		}
		env, err := Unwrap(string(body))
		if err != nil {
			t.Fatalf("%s: %v", typ.Name(), err)
		}
		var v1Env Envelope
		if err := json.Unmarshal(body, &v1Env); err != nil || !reflect.DeepEqual(env, v1Env) {
			t.Errorf("%s: Unwrap %+v, encoding/json %+v (%v)", typ.Name(), env, v1Env, err)
		}
		got, want := reflect.New(typ), reflect.New(typ)
		if err := DecodeDetail(env, got.Interface()); err != nil {
			t.Fatalf("%s: %v", typ.Name(), err)
		}
		if err := json.Unmarshal(env.Detail, want.Interface()); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Interface(), want.Interface()) || !reflect.DeepEqual(got.Interface(), v.Interface()) {
			t.Errorf("%s: DecodeDetail %+v\nencoding/json %+v\nencoded %+v", typ.Name(), got.Elem(), want.Elem(), v.Elem())
		}
	}
}
