// Package dynamopage pages through DynamoDB queries and scans with the same
// opaque tokens and exact limits as every other store: it reads on until a page
// is full (filters may drop items) and hands out a token only when more items
// follow.
package dynamopage

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventshop/eventshop/internal/page"
	"github.com/eventshop/eventshop/internal/validation"
)

// Item is one DynamoDB item.
type Item = map[string]types.AttributeValue

// Fetch reads up to limit items after start (nil: from the beginning) and
// returns them with DynamoDB's LastEvaluatedKey.
type Fetch func(ctx context.Context, start Item, limit int32) (items []Item, last Item, err error)

// Collect returns up to req.Limit items, decoded, and the token for the next
// page. keys names the string attributes that form the position (the table
// key, plus the index key when reading an index).
func Collect[T any](ctx context.Context, req page.Request, keys []string, fetch Fetch, decode func(Item) (T, error)) (page.Of[T], error) {
	start, err := decodeToken(req.Token, keys)
	if err != nil {
		return page.Of[T]{}, err
	}
	var raw []Item
	next := ""
	for {
		// One more than needed tells whether another page follows.
		items, last, err := fetch(ctx, start, int32(req.Limit-len(raw)+1))
		if err != nil {
			return page.Of[T]{}, err
		}
		raw = append(raw, items...)
		if len(raw) > req.Limit {
			raw = raw[:req.Limit]
			next = encode(raw[req.Limit-1], keys)
			break
		}
		if len(last) == 0 {
			break
		}
		start = last
	}
	out := page.Of[T]{Items: make([]T, 0, len(raw)), NextToken: next}
	for _, item := range raw {
		v, err := decode(item)
		if err != nil {
			return page.Of[T]{}, err
		}
		out.Items = append(out.Items, v)
	}
	return out, nil
}

func encode(item Item, keys []string) string {
	pos := make(map[string]string, len(keys))
	for _, k := range keys {
		if s, ok := item[k].(*types.AttributeValueMemberS); ok {
			pos[k] = s.Value
		}
	}
	return page.Encode(pos)
}

func decodeToken(token string, keys []string) (Item, error) {
	if token == "" {
		return nil, nil
	}
	var pos map[string]string
	if err := page.Decode(token, &pos); err != nil {
		return nil, err
	}
	if len(pos) != len(keys) {
		return nil, validation.Field("nextToken", "is not a valid page token")
	}
	start := make(Item, len(keys))
	for k, v := range pos {
		if !slices.Contains(keys, k) || v == "" {
			return nil, validation.Field("nextToken", "is not a valid page token")
		}
		start[k] = &types.AttributeValueMemberS{Value: v}
	}
	return start, nil
}
