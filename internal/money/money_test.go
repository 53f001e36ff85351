package money

import (
	"encoding/json"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    Cents
		wantErr bool
	}{
		{"19.99", 1999, false},
		{"20", 2000, false},
		{"0.5", 50, false},
		{"0.05", 5, false},
		{"-3.10", -310, false},
		{"1000000", 100000000, false},
		{"19.999", 0, true},
		{"1e2", 0, true},
		{"19.", 0, true},
		{".5", 0, true},
		{"", 0, true},
		{"abc", 0, true},
		{"1234567890123456789", 0, true},
		{"999999999999999.99", 99999999999999999, false}, // 15 digits before the point: the most allowed
		{"1000000000000000", 0, true},                    // 16
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Parse(%q) err = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("Parse(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestSumIsExact(t *testing.T) {
	p, err := Parse("19.99")
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Times(3).String(); got != "59.97" {
		t.Fatalf("3 × 19.99 = %s, want 59.97", got)
	}
	var total Cents
	for range 10 {
		total += 10 // 0.10 ten times
	}
	if total.String() != "1.00" {
		t.Fatalf("ten times 0.10 = %s", total)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for _, c := range []Cents{0, 5, 50, 1999, 100000000, -310} {
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		var back Cents
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("unmarshal %s: %v", b, err)
		}
		if back != c {
			t.Fatalf("round trip %d → %s → %d", c, b, back)
		}
	}
	if b, _ := json.Marshal(Cents(1999)); string(b) != "19.99" {
		t.Fatalf("marshal 1999 = %s", b)
	}
}

func TestString(t *testing.T) {
	for c, want := range map[Cents]string{0: "0.00", 5: "0.05", 1999: "19.99", -310: "-3.10", -5: "-0.05", 100: "1.00"} {
		if got := c.String(); got != want {
			t.Errorf("Cents(%d).String() = %q, want %q", int64(c), got, want)
		}
	}
}
