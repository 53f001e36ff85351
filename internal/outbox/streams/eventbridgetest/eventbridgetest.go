// Package eventbridgetest is a loopback EventBridge endpoint for tests: it
// speaks the JSON protocol of PutEvents, records the entries it accepts, and
// fails the entries or whole calls a test chooses.
package eventbridgetest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Entry is one PutEvents entry as the endpoint received it.
type Entry struct {
	Source, DetailType, Detail, EventBusName string
}

// Bus is the endpoint. Set Fail and Down before the first call.
type Bus struct {
	// Fail reports whether to answer entry e of call number call (from 0)
	// with an ErrorCode; calls answered while Down count too.
	Fail func(call int, e Entry) bool
	// Down is how many calls to answer with HTTP 500 first.
	Down int

	mu    sync.Mutex
	calls [][]Entry
	got   []Entry
}

// Start serves b on a loopback port until the test ends and returns its URL.
func Start(t testing.TB, b *Bus) string {
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	return srv.URL
}

// ServeHTTP answers PutEvents.
func (b *Bus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if target := r.Header.Get("X-Amz-Target"); target != "AWSEvents.PutEvents" {
		http.Error(w, "unexpected target "+target, http.StatusBadRequest)
		return
	}
	var in struct{ Entries []Entry }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.Down > 0 {
		b.Down--
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, `{"__type":"InternalException","message":"down"}`)
		return
	}
	call := len(b.calls)
	b.calls = append(b.calls, in.Entries)
	type result struct {
		EventID      string `json:"EventId,omitempty"`
		ErrorCode    string `json:",omitempty"`
		ErrorMessage string `json:",omitempty"`
	}
	out := struct {
		FailedEntryCount int
		Entries          []result
	}{}
	for i, e := range in.Entries {
		if b.Fail != nil && b.Fail(call, e) {
			out.FailedEntryCount++
			out.Entries = append(out.Entries, result{ErrorCode: "InternalFailure", ErrorMessage: "chosen to fail"})
			continue
		}
		b.got = append(b.got, e)
		out.Entries = append(out.Entries, result{EventID: fmt.Sprintf("e-%d-%d", call, i)})
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

// Published returns the entries accepted so far, in order.
func (b *Bus) Published() []Entry {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Entry(nil), b.got...)
}

// Calls returns the entries of every call that was not answered with a 500.
func (b *Bus) Calls() [][]Entry {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([][]Entry(nil), b.calls...)
}
