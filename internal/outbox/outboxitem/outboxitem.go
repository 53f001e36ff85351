// Package outboxitem is how the outbox rides on a DynamoDB item: a write
// stores its events on the item it writes, in the same request, and the
// stream publisher (package streams) reads them from the stream's new image.
// The stores import only this, so the API functions do not link EventBridge.
package outboxitem

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventshop/eventshop/internal/events"
)

// Attribute is the item attribute that carries a write's events. Adapters
// write whole items (PutItem), so the attribute holds the events of the write
// that made the item and nothing older: a stream record's new image carries
// exactly its own write's events.
const Attribute = "outbox"

// Encode turns evts into the attribute's value.
func Encode(evts []events.Outgoing) (types.AttributeValue, error) {
	b, err := json.Marshal(evts)
	if err != nil {
		return nil, fmt.Errorf("encode outbox: %w", err)
	}
	return &types.AttributeValueMemberS{Value: string(b)}, nil
}

// Decode reads the attribute's value back.
func Decode(s string) ([]events.Outgoing, error) {
	var evts []events.Outgoing
	if err := json.Unmarshal([]byte(s), &evts); err != nil {
		return nil, fmt.Errorf("decode outbox: %w", err)
	}
	return evts, nil
}
