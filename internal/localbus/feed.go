package localbus

import (
	"encoding/json"
	"sync"
	"time"
)

// Published is an event the bus took: its envelope and the queues its rules
// sent it to (none, when no rule matched it: EventBridge drops such events).
type Published struct {
	At       time.Time       `json:"at"`
	Envelope json.RawMessage `json:"envelope"`
	Queues   []string        `json:"queues"`
}

// FeedRecent is how many of the latest events a new watcher is shown first.
const FeedRecent = 200

// feedBuffer is how many events a watcher may fall behind by before it
// misses some.
const feedBuffer = 256

// feed hands every event the bus takes to its watchers, once committed.
type feed struct {
	mu       sync.Mutex
	recent   [FeedRecent]Published // a ring: the latest FeedRecent events
	next     int                   // where the next event goes in recent
	full     bool                  // recent has wrapped around
	watchers map[chan Published]struct{}
}

func (f *feed) add(ps []Published) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range ps {
		f.recent[f.next] = p
		f.next = (f.next + 1) % FeedRecent
		f.full = f.full || f.next == 0
		for w := range f.watchers {
			select {
			case w <- p:
			default: // a slow watcher misses it
			}
		}
	}
}

// Watch returns the latest events the bus took (up to FeedRecent, oldest
// first) and a channel of those it takes from now on, until stop. A watcher
// that falls more than 256 events behind misses the newest: it is a view for
// people, not a delivery (queues are that).
func (b *Bus) Watch() (recent []Published, live <-chan Published, stop func()) {
	f := &b.feed
	ch := make(chan Published, feedBuffer)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.watchers == nil {
		f.watchers = map[chan Published]struct{}{}
	}
	f.watchers[ch] = struct{}{}
	if f.full {
		recent = append(recent, f.recent[f.next:]...)
	}
	recent = append(recent, f.recent[:f.next]...)
	return recent, ch, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		delete(f.watchers, ch)
	}
}
