package localbus

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/eventshop/eventshop/internal/kind"
)

// UnknownQueueError names a queue no rule targets, and the queues there are.
type UnknownQueueError struct {
	Queue string
	Known []string
}

func (e *UnknownQueueError) Error() string {
	return fmt.Sprintf("no queue %q; the queues are: %s", e.Queue, strings.Join(e.Known, ", "))
}

// Kind makes an unknown queue a 404 on the admin API.
func (e *UnknownQueueError) Kind() kind.Kind { return kind.NotFound }

// QueueNames lists the queues the rules target, in rule order.
func (b *Bus) QueueNames() []string {
	names := make([]string, len(b.rules))
	for i, r := range b.rules {
		names[i] = r.Queue
	}
	return names
}

func (b *Bus) queue(name string) (*queue, error) {
	q, ok := b.queues[name]
	if !ok {
		return nil, &UnknownQueueError{Queue: name, Known: b.QueueNames()}
	}
	return q, nil
}

// QueueStats is how many messages wait in a queue and in its dead-letter queue.
type QueueStats struct {
	Queue           string `json:"queue"`
	DeadLetterQueue string `json:"deadLetterQueue"`
	Messages        int    `json:"messages"` // waiting or in flight
	// InFlight counts the messages received and not yet settled, and the
	// failed ones waiting for their next receive: SQS's "not visible".
	InFlight    int `json:"inFlight"`
	DeadLetters int `json:"deadLetters"`
}

// Stats counts the messages of every queue and its dead-letter queue.
func (b *Bus) Stats(ctx context.Context) ([]QueueStats, error) {
	out := make([]QueueStats, 0, len(b.rules))
	for _, r := range b.rules {
		s := QueueStats{Queue: r.Queue, DeadLetterQueue: r.DeadLetterQueue()}
		err := b.db.QueryRowContext(ctx, `select count(*), count(*) filter (where received > 0 and timeout > strftime('%Y-%m-%dT%H:%M:%fZ')) from goqite where queue = ?`, r.Queue).
			Scan(&s.Messages, &s.InFlight)
		if err != nil {
			return nil, fmt.Errorf("count %s: %w", r.Queue, err)
		}
		if s.DeadLetters, err = b.Depth(ctx, r.DeadLetterQueue()); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Depth counts the messages waiting in queueName (visible or in flight).
func (b *Bus) Depth(ctx context.Context, queueName string) (int, error) {
	var n int
	err := b.db.QueryRowContext(ctx, `select count(*) from goqite where queue = ?`, queueName).Scan(&n)
	return n, err
}

// Idle reports whether the bus has nothing left to do: no send under way, and
// no message in any queue, whether waiting, in flight or waiting for its next
// receive (dead letters are at rest). A message handed to a consumer in
// memory keeps its publish under way until the consumer has settled it or the
// publish has written it. Sends tells a caller that looks elsewhere between
// two looks at the bus whether anything came in meanwhile.
func (b *Bus) Idle(ctx context.Context) (bool, error) {
	if b.sending.Load() > 0 {
		return false, nil
	}
	queues, _ := json.Marshal(b.QueueNames())
	var n int
	if err := b.db.QueryRowContext(ctx, `select count(*) from goqite where queue in (select value from json_each(?))`, string(queues)).Scan(&n); err != nil {
		return false, fmt.Errorf("count messages: %w", err)
	}
	return n == 0 && b.sending.Load() == 0, nil
}

// Sends counts the sends to the queues (publishes, redrives, replays) begun
// since the bus opened.
func (b *Bus) Sends() uint64 { return b.sends.Load() }
