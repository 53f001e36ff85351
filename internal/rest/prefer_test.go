package rest

import (
	"net/http"
	"testing"
	"time"
)

func TestPreferredWait(t *testing.T) {
	for _, c := range []struct {
		header []string
		want   time.Duration
	}{
		{nil, 0},
		{[]string{"wait=5"}, 5 * time.Second},
		{[]string{"respond-async, WAIT = 10"}, 10 * time.Second},
		{[]string{`wait="3"; x=y`}, 3 * time.Second},
		{[]string{"return=minimal", "wait=2"}, 2 * time.Second},
		{[]string{"wait=-1"}, 0},
		{[]string{"wait=1.5"}, 0},
		{[]string{"wait=soon"}, 0},
		{[]string{"wait=99999999999"}, 0},
		{[]string{"wait"}, 0},
		{[]string{"waiting=4"}, 0},
	} {
		r := &http.Request{Header: http.Header{"Prefer": c.header}}
		if got := PreferredWait(r); got != c.want {
			t.Errorf("Prefer %q: %v, want %v", c.header, got, c.want)
		}
	}
}
