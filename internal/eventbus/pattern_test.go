package eventbus_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
)

// ec2 is the example event of EventBridge's documentation on event patterns.
const ec2 = `{
  "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
  "detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2",
  "account": "111122223333", "time": "2017-12-22T18:43:48Z", "region": "us-west-1",
  "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
  "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated"}
}`

// The cases follow the examples of AWS's EventBridge documentation ("Creating
// event patterns", "Content filtering in event patterns"), each with an event
// it must match and one it must not.
func TestPatternMatchesAsEventBridgeDoes(t *testing.T) {
	tests := []struct {
		name, pattern, event string
		match                bool
	}{
		{"source, type and detail", `{"source":["aws.ec2"],"detail-type":["EC2 Instance State-change Notification"],"detail":{"state":["terminated"]}}`, ec2, true},
		{"detail value differs", `{"source":["aws.ec2"],"detail":{"state":["running"]}}`, ec2, false},
		{"one of several values", `{"detail":{"state":["running","terminated"]}}`, ec2, true},
		{"field the event lacks", `{"detail":{"zone":["a"]}}`, ec2, false},
		{"object where the event has a value", `{"source":{"x":["aws.ec2"]}}`, ec2, false},
		{"an array in the event matches by any element", `{"resources":["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"]}`, ec2, true},
		{"an array in the event, no element", `{"resources":["arn:other"]}`, ec2, false},

		{"prefix", `{"time":[{"prefix":"2017-12-22"}]}`, ec2, true},
		{"prefix misses", `{"time":[{"prefix":"2017-10-02"}]}`, ec2, false},
		{"prefix ignoring case", `{"detail":{"service":[{"prefix":{"equals-ignore-case":"EventB"}}]}}`, `{"detail":{"service":"eventbridge"}}`, true},
		{"prefix with case", `{"detail":{"service":[{"prefix":"EventB"}]}}`, `{"detail":{"service":"eventbridge"}}`, false},
		{"suffix", `{"FileName":[{"suffix":".png"}]}`, `{"FileName":"image.png"}`, true},
		{"suffix misses", `{"FileName":[{"suffix":".png"}]}`, `{"FileName":"image.jpg"}`, false},
		{"suffix ignoring case", `{"FileName":[{"suffix":{"equals-ignore-case":".png"}}]}`, `{"FileName":"IMAGE.PNG"}`, true},
		{"prefix on a number", `{"n":[{"prefix":"1"}]}`, `{"n":123}`, false},

		{"anything-but a string", `{"detail":{"state":[{"anything-but":"initializing"}]}}`, `{"detail":{"state":"running"}}`, true},
		{"anything-but the same string", `{"detail":{"state":[{"anything-but":"initializing"}]}}`, `{"detail":{"state":"initializing"}}`, false},
		{"anything-but a number", `{"detail":{"x-limit":[{"anything-but":123}]}}`, `{"detail":{"x-limit":456}}`, true},
		{"anything-but the same number", `{"detail":{"x-limit":[{"anything-but":123}]}}`, `{"detail":{"x-limit":123}}`, false},
		{"anything-but strings", `{"detail":{"state":[{"anything-but":["stopped","overloaded"]}]}}`, `{"detail":{"state":"stopped"}}`, false},
		{"anything-but strings, another", `{"detail":{"state":[{"anything-but":["stopped","overloaded"]}]}}`, `{"detail":{"state":"running"}}`, true},
		{"anything-but numbers", `{"detail":{"x-limit":[{"anything-but":[100,200,300]}]}}`, `{"detail":{"x-limit":200}}`, false},
		{"anything-but numbers, another", `{"detail":{"x-limit":[{"anything-but":[100,200,300]}]}}`, `{"detail":{"x-limit":250}}`, true},
		{"anything-but a prefix", `{"detail":{"state":[{"anything-but":{"prefix":"init"}}]}}`, `{"detail":{"state":"initializing"}}`, false},
		{"anything-but a prefix, another", `{"detail":{"state":[{"anything-but":{"prefix":"init"}}]}}`, `{"detail":{"state":"running"}}`, true},
		{"anything-but a suffix", `{"FileName":[{"anything-but":{"suffix":".txt"}}]}`, `{"FileName":"notes.txt"}`, false},
		{"anything-but ignoring case", `{"detail":{"state":[{"anything-but":{"equals-ignore-case":["Stopped","OverLoaded"]}}]}}`, `{"detail":{"state":"STOPPED"}}`, false},
		{"anything-but ignoring case, another", `{"detail":{"state":[{"anything-but":{"equals-ignore-case":["Stopped","OverLoaded"]}}]}}`, `{"detail":{"state":"running"}}`, true},
		{"anything-but a wildcard", `{"FilePath":[{"anything-but":{"wildcard":"*/dir/*"}}]}`, `{"FilePath":"/user/dir/file.txt"}`, false},
		{"anything-but a wildcard, another", `{"FilePath":[{"anything-but":{"wildcard":"*/dir/*"}}]}`, `{"FilePath":"/user/other/file.txt"}`, true},
		{"anything-but needs the field", `{"detail":{"state":[{"anything-but":"initializing"}]}}`, `{"detail":{}}`, false},

		{"numeric ranges", `{"detail":{"c-count":[{"numeric":[">",0,"<=",5]}],"d-count":[{"numeric":["<",10]}],"x-limit":[{"numeric":["=",3.018e2]}]}}`, `{"detail":{"c-count":5,"d-count":7,"x-limit":301.8}}`, true},
		{"numeric out of range", `{"detail":{"c-count":[{"numeric":[">",0,"<=",5]}]}}`, `{"detail":{"c-count":0}}`, false},
		{"numeric on a string", `{"detail":{"c-count":[{"numeric":[">",0]}]}}`, `{"detail":{"c-count":"5"}}`, false},
		{"an exact number, written otherwise", `{"detail":{"price":[100]}}`, `{"detail":{"price":100.0}}`, true},
		{"a number is not its string", `{"detail":{"price":["100"]}}`, `{"detail":{"price":100}}`, false},

		{"exists", `{"detail":{"state":[{"exists":true}]}}`, ec2, true},
		{"exists, absent", `{"detail":{"zone":[{"exists":true}]}}`, ec2, false},
		{"does not exist", `{"detail":{"c-count":[{"exists":false}]}}`, ec2, true},
		{"does not exist, present", `{"detail":{"state":[{"exists":false}]}}`, ec2, false},
		{"exists on an object (leaves only)", `{"detail":{"state":[{"exists":true}]}}`, `{"detail":{"state":{"a":1}}}`, false},
		{"does not exist: its parent missing", `{"detail":{"c":[{"exists":false}]}}`, `{}`, true},
		{"does not exist: its parent not an object", `{"detail":{"c":[{"exists":false}]}}`, `{"detail":"text"}`, true},
		{"does not exist: its parent an array of values", `{"detail":{"c":[{"exists":false}]}}`, `{"detail":[1,2]}`, true},
		{"exists: its parent missing", `{"detail":{"c":[{"exists":true}]}}`, `{}`, false},
		{"exists on an empty array", `{"d":[{"exists":true}]}`, `{"d":[]}`, false},
		{"does not exist: an empty array", `{"d":[{"exists":false}]}`, `{"d":[]}`, true},
		{"exists on an array of values", `{"d":[{"exists":true}]}`, `{"d":[1]}`, true},
		{"exists on an array of objects (leaves only)", `{"d":[{"exists":true}]}`, `{"d":[{"a":1}]}`, false},

		{"arrays within arrays", `{"a":["x"]}`, `{"a":[["x"]]}`, true},
		{"arrays within arrays, no element", `{"a":["x"]}`, `{"a":[["y"],["z"]]}`, false},
		{"objects in arrays within arrays", `{"a":{"b":["x"]}}`, `{"a":[[{"b":"x"}]]}`, true},
		{"objects in arrays within arrays misses", `{"a":{"b":["x"]}}`, `{"a":[[{"b":"y"}]]}`, false},
		{"a nested pattern within one element", `{"a":{"b":["x"],"c":["y"]}}`, `{"a":[{"b":"x","c":"z"},{"b":"w","c":"y"}]}`, false},

		{"cidr, IPv4", `{"detail":{"sourceIPAddress":[{"cidr":"10.0.0.0/24"}]}}`, `{"detail":{"sourceIPAddress":"10.0.0.255"}}`, true},
		{"cidr, IPv4 outside", `{"detail":{"sourceIPAddress":[{"cidr":"10.0.0.0/24"}]}}`, `{"detail":{"sourceIPAddress":"10.0.1.0"}}`, false},
		{"cidr, IPv6", `{"detail":{"sourceIPAddress":[{"cidr":"bcde:6f::/48"}]}}`, `{"detail":{"sourceIPAddress":"bcde:6f::1"}}`, true},
		{"cidr, IPv6 outside", `{"detail":{"sourceIPAddress":[{"cidr":"bcde:6f::/48"}]}}`, `{"detail":{"sourceIPAddress":"bcde:70::1"}}`, false},
		{"cidr on what is no address", `{"detail":{"sourceIPAddress":[{"cidr":"10.0.0.0/24"}]}}`, `{"detail":{"sourceIPAddress":"10.0.0"}}`, false},
		{"cidr, IPv4 against an IPv6 prefix", `{"ip":[{"cidr":"bcde:6f::/48"}]}`, `{"ip":"10.0.0.1"}`, false},

		{"equals-ignore-case", `{"detail-type":[{"equals-ignore-case":"ec2 instance state-change notification"}]}`, ec2, true},
		{"equals-ignore-case misses", `{"detail-type":[{"equals-ignore-case":"ec2 instance"}]}`, ec2, false},

		{"wildcard", `{"EventBusArn":[{"wildcard":"arn:aws:events:us-east-1:*:event-bus/*"}]}`, `{"EventBusArn":"arn:aws:events:us-east-1:123456789012:event-bus/default"}`, true},
		{"wildcard misses", `{"EventBusArn":[{"wildcard":"arn:aws:events:us-east-1:*:event-bus/*"}]}`, `{"EventBusArn":"arn:aws:events:eu-west-1:123456789012:event-bus/default"}`, false},
		{"wildcard in a folder", `{"FilePath":[{"wildcard":"dir/*.png"}]}`, `{"FilePath":"dir/a.png"}`, true},
		{"wildcard in a folder misses", `{"FilePath":[{"wildcard":"dir/*.png"}]}`, `{"FilePath":"dir/a.jpg"}`, false},
		{"an escaped star is a star", `{"x":[{"wildcard":"a\\*b"}]}`, `{"x":"a*b"}`, true},
		{"an escaped star is not any run", `{"x":[{"wildcard":"a\\*b"}]}`, `{"x":"axb"}`, false},
		{"wildcard without a star is exact", `{"x":[{"wildcard":"ab"}]}`, `{"x":"abc"}`, false},

		{"$or: one alternative", `{"detail":{"$or":[{"c-count":[{"numeric":[">",0,"<=",5]}]},{"d-count":[{"numeric":["<",10]}]},{"x-limit":[{"numeric":["=",3.018e2]}]}]}}`, `{"detail":{"d-count":7}}`, true},
		{"$or: none", `{"detail":{"$or":[{"c-count":[{"numeric":[">",0,"<=",5]}]},{"d-count":[{"numeric":["<",10]}]}]}}`, `{"detail":{"d-count":70}}`, false},
		{"$or beside other fields", `{"source":["aws.ec2"],"$or":[{"detail-type":["Other"]},{"detail":{"state":["terminated"]}}]}`, ec2, true},
		{"$or beside a field that fails", `{"source":["aws.s3"],"$or":[{"detail-type":["Other"]},{"detail":{"state":["terminated"]}}]}`, ec2, false},

		{"null", `{"detail":{"responseElements":[null]}}`, `{"detail":{"responseElements":null}}`, true},
		{"null is not a value", `{"detail":{"responseElements":[null]}}`, `{"detail":{"responseElements":"x"}}`, false},
		{"null is not absent", `{"detail":{"responseElements":[null]}}`, `{"detail":{}}`, false},
		{"empty string", `{"detail":{"eventVersion":[""]}}`, `{"detail":{"eventVersion":""}}`, true},
		{"true", `{"detail":{"ok":[true]}}`, `{"detail":{"ok":true}}`, true},
		{"true is not the string", `{"detail":{"ok":[true]}}`, `{"detail":{"ok":"true"}}`, false},
		{"nested object inside an array", `{"detail":{"lines":{"sku":["b"]}}}`, `{"detail":{"lines":[{"sku":"a"},{"sku":"b"}]}}`, true},
		{"nested object inside an array misses", `{"detail":{"lines":{"sku":["c"]}}}`, `{"detail":{"lines":[{"sku":"a"},{"sku":"b"}]}}`, false},
		{"deep exact value", `{"detail":{"order":{"from":{"status":["PAID"]}}}}`, `{"detail":{"order":{"from":{"status":"PAID"}}}}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := eventbus.ParsePattern(tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Matches([]byte(tt.event)); got != tt.match {
				t.Fatalf("%s\nagainst %s: %v, want %v", tt.pattern, tt.event, got, tt.match)
			}
		})
	}
	for _, bad := range []string{`not json`, `{"source":"a","detail":{"n":}}`, `{"source":"a"`, `["source","a"]`, `null`} {
		if eventbus.MustPattern(`{"source":["a"]}`).Matches([]byte(bad)) {
			t.Errorf("malformed or not an object, matched: %s", bad)
		}
	}
	if !eventbus.MustPattern(`{"source":["a"]}`).Matches([]byte(`{"source":"x","source":"a"}`)) {
		t.Error("a repeated field did not match by its last value, as encoding/json reads it")
	}
}

func TestMalformedPatternsAreRefused(t *testing.T) {
	long := `{"source":["` + strings.Repeat("x", eventbus.MaxPatternLength) + `"]}`
	for _, p := range []string{
		long, `{"a":[{"cidr":"10.0.0.0"}]}`, `{"a":[{"cidr":"10.0.0.0/33"}]}`, `{"a":[{"cidr":10}]}`,
		`[]`, `{}`, `{"a":[]}`, `{"a":"x"}`, `{"a":{}}`, `{"a":[{"prefix":1}]}`, `{"a":[{"numeric":[">"]}]}`,
		`{"a":[{"numeric":[">",1,"<"]}]}`, `{"a":[{"numeric":["!=",1]}]}`, `{"a":[{"numeric":[">",6e9]}]}`,
		`{"a":[{"nope":1}]}`, `{"a":[{"prefix":"x","suffix":"y"}]}`, `{"$or":[{"a":["b"]}]}`, `{"$or":"x"}`,
		`{"a":[{"exists":"yes"}]}`, `{"a":[{"anything-but":[]}]}`, `{"a":[{"anything-but":{"exists":true}}]}`,
		`{"a":[{"anything-but":[true]}]}`, `{"a":[["nested"]]}`, `not json`,
	} {
		if _, err := eventbus.ParsePattern(p); err == nil {
			t.Errorf("ParsePattern(%s) accepted it", p)
		}
	}
	p := eventbus.MustPattern(`{ "source" : [ "a" ] }`)
	if p.JSON() != `{"source":["a"]}` {
		t.Errorf("JSON() = %s, want the compact form", p.JSON())
	}
}

// BenchmarkRoute decodes a checkout's envelope and matches it against every
// rule, as the local bus routes each event it is published.
func BenchmarkRoute(b *testing.B) {
	lines := make([]events.CheckoutLine, 10)
	for i := range lines {
		lines[i] = events.CheckoutLine{ProductID: fmt.Sprintf("p%d", i), ProductName: "A product with a name", Quantity: 2, UnitPrice: 1999, LineTotal: 3998}
	}
	e, err := events.New(context.Background(), events.SourceCheckout, events.TypeCheckoutBasket, events.CheckoutBasket{UserName: "alice", Lines: lines, TotalPrice: 39980}, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	body, err := json.Marshal(e.Wrap("000000000000", "local"))
	if err != nil {
		b.Fatal(err)
	}
	rules := eventbus.Rules()
	b.ReportAllocs()
	for b.Loop() {
		ev, ok := eventbus.ParseEvent(body)
		matched := 0
		for _, r := range rules {
			if ok && r.Pattern.MatchesEvent(ev) {
				matched++
			}
		}
		if matched != 1 {
			b.Fatalf("matched %d rules, want 1", matched)
		}
	}
}
