// Package eventbridgetest is a loopback EventBridge endpoint for tests: it
// speaks the JSON protocol of PutEvents, enforces its limits (10 entries and
// 256 KB a call, counted as EventBridge counts them), records the entries it
// accepts, and fails the entries or whole calls a test chooses.
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
	// Fail returns the ErrorCode to answer entry e of call number call (from
	// 0) with, such as "ThrottlingException" or "MalformedDetail", or "" to
	// accept it; calls answered while Down count too.
	Fail func(call int, e Entry) string
	// Down is how many calls to answer with HTTP 500 first.
	Down int

	mu       sync.Mutex
	calls    [][]Entry
	got      []Entry
	rejected int
}

// SetFail replaces Fail while the endpoint serves.
func (b *Bus) SetFail(fail func(call int, e Entry) string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.Fail = fail
}

// Rejected counts the calls refused for going over PutEvents' limits.
func (b *Bus) Rejected() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.rejected
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
	size := 0
	for _, e := range in.Entries {
		size += 14 + len(e.Source) + len(e.DetailType) + len(e.Detail)
	}
	if size > 256*1024 || len(in.Entries) > 10 {
		b.rejected++
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = fmt.Fprintf(w, `{"__type":"ValidationException","message":"%d entries of %d bytes are over the limit"}`, len(in.Entries), size)
		return
	}
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
		if b.Fail != nil {
			if code := b.Fail(call, e); code != "" {
				out.FailedEntryCount++
				out.Entries = append(out.Entries, result{ErrorCode: code, ErrorMessage: "chosen to fail"})
				continue
			}
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
