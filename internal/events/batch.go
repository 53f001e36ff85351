package events

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/eventshop/eventshop/internal/correlation"
)

// HandleBatch runs handle on the envelope of each SQS message and reports the
// messages it failed on, so that only those are delivered again. A message
// whose body is not an envelope fails too: after its receives run out it waits
// in the dead-letter queue for someone to look at it. A panic while handling
// one message fails that message only; the rest of the batch goes on.
func HandleBatch(ctx context.Context, ev awsevents.SQSEvent, log *slog.Logger, handle func(context.Context, Envelope) error) awsevents.SQSEventResponse {
	var resp awsevents.SQSEventResponse
	for _, m := range ev.Records {
		if err := handleOne(ctx, m, handle); err != nil {
			log.ErrorContext(ctx, "message failed", "messageId", m.MessageId, "receives", m.Attributes["ApproximateReceiveCount"], "err", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, awsevents.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp
}

func handleOne(ctx context.Context, m awsevents.SQSMessage, handle func(context.Context, Envelope) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	env, err := Unwrap(m.Body)
	if err != nil {
		return err
	}
	var meta Meta
	_ = json.Unmarshal(env.Detail, &meta) // optional: an event without it has no correlation id
	if meta.CorrelationID != "" {
		ctx = correlation.With(ctx, correlation.Sanitize(meta.CorrelationID))
	}
	return handle(ctx, env)
}

// DecodeDetail reads an envelope's detail into v, strictly.
func DecodeDetail(env Envelope, v any) error {
	if err := json.Unmarshal(env.Detail, v); err != nil {
		return fmt.Errorf("decode %s detail of event %s: %w", env.DetailType, env.ID, err)
	}
	return nil
}
