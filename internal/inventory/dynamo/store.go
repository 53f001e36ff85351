// Package dynamo is the inventory service's store on DynamoDB. One table
// holds an item per product (its stock, and the units each order holds of it
// in a map keyed by order) and an item per order's reservation. There are no
// transactions: every step is a conditional write on one item, ordered so
// that a crash or a repeat at any point converges.
//
//   - A reservation first claims its order's item (outcome "pending", with a
//     lease), so that one attempt at a time works on an order.
//   - It then takes each tracked line with a write conditional on enough
//     stock and on the order not holding the product yet; a line already
//     held (a retry after a crash) counts as taken.
//   - It ends by writing the outcome, with its events, conditional on no
//     release having been asked meanwhile; if one was, or a line could not
//     be taken, it gives back what the order holds.
//
// The order's item carries the events of the write that made it (outbox),
// and every other write to it removes them, so that the stream publisher
// sends each event once per write.
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/inventory"
	"github.com/eventshop/eventshop/internal/kind"
	"github.com/eventshop/eventshop/internal/outbox/outboxitem"
)

// KeyID is the table's key: a product id, or orderPrefix and an order id.
const KeyID = "id"

// orderPrefix marks an order's item; product ids cannot hold '#'.
const orderPrefix = "order#"

// Lease is how long an attempt at a reservation may work on its order before
// another may take over: far longer than a reservation takes, so only an
// attempt whose process died leaves its order behind that long.
const Lease = time.Minute

// ErrBusy reports an order another attempt is reserving right now; the
// caller retries later (a consumer fails the message, and it comes back).
var ErrBusy = kind.New(kind.Unavailable, "another attempt is reserving this order")

// TableInput describes the table the store needs; the CDK stack declares the same.
func TableInput(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(KeyID), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(KeyID), KeyType: types.KeyTypeHash}},
	}
}

// API is the part of the DynamoDB client the store uses.
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

var _ inventory.Store = (*Store)(nil)

// Store implements inventory.Store.
type Store struct {
	db    API
	table string
	now   func() time.Time
}

// New returns the store on table.
func New(db API, table string) *Store { return &Store{db: db, table: table, now: time.Now} }

// stockItem is a product's item.
type stockItem struct {
	ID             string         `dynamodbav:"id"`
	Tracked        bool           `dynamodbav:"tracked"`
	Available      int            `dynamodbav:"available"`
	Reserved       int            `dynamodbav:"reserved"`
	Deleted        bool           `dynamodbav:"deleted"`
	Version        int64          `dynamodbav:"version"`
	CatalogVersion int64          `dynamodbav:"catalogVersion"`
	Holds          map[string]int `dynamodbav:"holds"`
}

// orderItem is an order's reservation.
type orderItem struct {
	ID               string     `dynamodbav:"id"`
	Outcome          string     `dynamodbav:"outcome"` // pending, an inventory.Outcome, or released
	Attempt          string     `dynamodbav:"attempt,omitempty"`
	Started          int64      `dynamodbav:"started,omitempty"`
	ReleaseRequested bool       `dynamodbav:"releaseRequested,omitempty"`
	Lines            []lineItem `dynamodbav:"lines,omitempty"` // what the order holds, once reserved
}

type lineItem struct {
	ProductID string `dynamodbav:"productId"`
	Quantity  int    `dynamodbav:"quantity"`
}

const (
	pending  = "pending"
	released = "released"
	shipped  = "shipped"
)

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}
func b(v bool) types.AttributeValue { return &types.AttributeValueMemberBOOL{Value: v} }

func isCCF(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

func (st *Store) key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{KeyID: s(id)}
}

func (st *Store) getItem(ctx context.Context, id string, v any) (bool, error) {
	out, err := st.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &st.table, Key: st.key(id), ConsistentRead: aws.Bool(true)})
	if err != nil || len(out.Item) == 0 {
		return false, err
	}
	return true, attributevalue.UnmarshalMap(out.Item, v)
}

// Get implements inventory.Store.
func (st *Store) Get(ctx context.Context, productID string) (inventory.Stock, error) {
	var it stockItem
	found, err := st.getItem(ctx, productID, &it)
	if err != nil {
		return inventory.Stock{}, fmt.Errorf("stock of %s: %w", productID, err)
	}
	if !found {
		return inventory.Stock{}, fmt.Errorf("stock of %s: %w", productID, inventory.ErrNotFound)
	}
	return inventory.Stock{ProductID: it.ID, Tracked: it.Tracked, Available: it.Available, Reserved: it.Reserved, Deleted: it.Deleted, Version: it.Version, CatalogVersion: it.CatalogVersion}, nil
}

// Announce implements inventory.Store with an update conditional on the
// catalog version being newer; a new product's item starts untracked.
func (st *Store) Announce(ctx context.Context, productID string, catalogVersion int64, deleted bool) (bool, error) {
	_, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &st.table, Key: st.key(productID),
		UpdateExpression: aws.String("SET deleted = :d, catalogVersion = :v, tracked = if_not_exists(tracked, :f), available = if_not_exists(available, :zero), " +
			"reserved = if_not_exists(reserved, :zero), version = if_not_exists(version, :zero), holds = if_not_exists(holds, :empty)"),
		ConditionExpression: aws.String("attribute_not_exists(id) OR catalogVersion < :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":d": b(deleted), ":v": n(catalogVersion), ":f": b(false), ":zero": n(0), ":empty": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
		},
	})
	if isCCF(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("announce %s: %w", productID, err)
	}
	return true, nil
}

// SetAvailable implements inventory.Store with an update conditional on the
// version read.
func (st *Store) SetAvailable(ctx context.Context, productID string, available int, ifVersion int64) (inventory.Stock, error) {
	cur, err := st.Get(ctx, productID)
	switch {
	case err != nil:
		return inventory.Stock{}, err
	case cur.Deleted:
		return inventory.Stock{}, fmt.Errorf("set stock of %s: %w", productID, inventory.ErrDeleted)
	case ifVersion != 0 && ifVersion != cur.Version:
		return inventory.Stock{}, fmt.Errorf("set stock of %s: %w", productID, inventory.ErrVersionConflict)
	}
	_, err = st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &st.table, Key: st.key(productID),
		UpdateExpression:          aws.String("SET tracked = :t, available = :a, version = :next"),
		ConditionExpression:       aws.String("version = :cur AND deleted = :f"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": b(true), ":a": n(int64(available)), ":next": n(cur.Version + 1), ":cur": n(cur.Version), ":f": b(false)},
	})
	if isCCF(err) {
		if now, gerr := st.Get(ctx, productID); gerr == nil && now.Deleted {
			return inventory.Stock{}, fmt.Errorf("set stock of %s: %w", productID, inventory.ErrDeleted)
		}
		return inventory.Stock{}, fmt.Errorf("set stock of %s: %w", productID, inventory.ErrVersionConflict)
	}
	if err != nil {
		return inventory.Stock{}, fmt.Errorf("set stock of %s: %w", productID, err)
	}
	cur.Tracked, cur.Available, cur.Version = true, available, cur.Version+1
	return cur, nil
}

// Reserve implements inventory.Store; the package comment says how.
func (st *Store) Reserve(ctx context.Context, orderID string, lines []inventory.Line, emit inventory.EmitReserve) (inventory.Outcome, error) {
	attempt, prev, err := st.claim(ctx, orderID)
	if err != nil {
		return "", fmt.Errorf("reserve for order %s: %w", orderID, err)
	}
	if prev != "" {
		return prev, nil
	}
	outcome, held, err := st.take(ctx, orderID, lines)
	if err != nil {
		return "", fmt.Errorf("reserve for order %s: %w", orderID, err)
	}
	if outcome != inventory.Reserved {
		if err := st.giveBack(ctx, orderID, lines); err != nil {
			return "", fmt.Errorf("reserve for order %s: %w", orderID, err)
		}
		held = nil
	}
	var evts []events.Outgoing
	if emit != nil {
		if evts, err = emit(outcome); err != nil {
			return "", err
		}
	}
	if err := st.finish(ctx, orderID, attempt, outcome, held, evts); err != nil {
		if !errors.Is(err, errReleaseAsked) {
			return "", fmt.Errorf("reserve for order %s: %w", orderID, err)
		}
		// A release came while this attempt worked: give everything back.
		if err := st.giveBack(ctx, orderID, lines); err != nil {
			return "", fmt.Errorf("reserve for order %s: %w", orderID, err)
		}
		if err := st.setReleased(ctx, orderID, attempt); err != nil {
			return "", fmt.Errorf("reserve for order %s: %w", orderID, err)
		}
		return inventory.AlreadyReleased, nil
	}
	return outcome, nil
}

// claim makes this attempt the one working on orderID. prev is the outcome
// of a reservation already made (AlreadyReleased for a released order), in
// which case there is nothing to do.
func (st *Store) claim(ctx context.Context, orderID string) (attempt string, prev inventory.Outcome, err error) {
	attempt = uuid.NewString()
	now := st.now()
	_, err = st.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &st.table,
		Item: map[string]types.AttributeValue{
			KeyID: s(orderPrefix + orderID), "outcome": s(pending), "attempt": s(attempt), "started": n(now.UnixNano()),
		},
		ConditionExpression: aws.String("attribute_not_exists(id) OR (outcome = :p AND started < :stale AND attribute_not_exists(releaseRequested))"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":p": s(pending), ":stale": n(now.Add(-Lease).UnixNano()),
		},
	})
	if err == nil {
		return attempt, "", nil
	}
	if !isCCF(err) {
		return "", "", err
	}
	var it orderItem
	if _, err := st.getItem(ctx, orderPrefix+orderID, &it); err != nil {
		return "", "", err
	}
	switch it.Outcome {
	case released:
		return "", inventory.AlreadyReleased, nil
	case pending:
		if it.ReleaseRequested {
			return "", inventory.AlreadyReleased, nil
		}
		return "", "", ErrBusy
	}
	return "", inventory.Outcome(it.Outcome), nil
}

// take holds each tracked line for orderID, in order, until one cannot be
// held; it returns the outcome and the lines held.
func (st *Store) take(ctx context.Context, orderID string, lines []inventory.Line) (inventory.Outcome, []inventory.Line, error) {
	var held []inventory.Line
	for _, l := range lines {
		var it stockItem
		found, err := st.getItem(ctx, l.ProductID, &it)
		switch {
		case err != nil:
			return "", nil, err
		case found && it.Deleted:
			return inventory.ProductUnavailable, held, nil
		case !found || !it.Tracked:
			// Untracked, or not announced yet (its event is on its way; the
			// basket only checks out announced products): always reservable.
			continue
		}
		_, err = st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: &st.table, Key: st.key(l.ProductID),
			UpdateExpression:          aws.String("SET available = available - :q, reserved = reserved + :q, holds.#o = :q"),
			ConditionExpression:       aws.String("tracked = :t AND deleted = :f AND available >= :q AND attribute_not_exists(holds.#o)"),
			ExpressionAttributeNames:  map[string]string{"#o": orderID},
			ExpressionAttributeValues: map[string]types.AttributeValue{":q": n(int64(l.Quantity)), ":t": b(true), ":f": b(false)},
		})
		if isCCF(err) {
			if _, err := st.getItem(ctx, l.ProductID, &it); err != nil {
				return "", nil, err
			}
			switch _, mine := it.Holds[orderID]; {
			case mine: // taken by an earlier attempt at this order
			case it.Deleted:
				return inventory.ProductUnavailable, held, nil
			default:
				return inventory.OutOfStock, held, nil
			}
		} else if err != nil {
			return "", nil, err
		}
		held = append(held, l)
	}
	return inventory.Reserved, held, nil
}

// giveBack releases what orderID holds of the products of lines; a line it
// does not hold is left alone, so giving back twice is harmless.
func (st *Store) giveBack(ctx context.Context, orderID string, lines []inventory.Line) error {
	for _, l := range lines {
		_, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: &st.table, Key: st.key(l.ProductID),
			UpdateExpression:          aws.String("SET available = available + :q, reserved = reserved - :q REMOVE holds.#o"),
			ConditionExpression:       aws.String("holds.#o = :q"),
			ExpressionAttributeNames:  map[string]string{"#o": orderID},
			ExpressionAttributeValues: map[string]types.AttributeValue{":q": n(int64(l.Quantity))},
		})
		if err != nil && !isCCF(err) {
			return err
		}
	}
	return nil
}

var errReleaseAsked = errors.New("a release was asked during the reservation")

// finish writes the reservation's outcome and events, unless a release was
// asked meanwhile (errReleaseAsked).
func (st *Store) finish(ctx context.Context, orderID, attempt string, outcome inventory.Outcome, held []inventory.Line, evts []events.Outgoing) error {
	it := orderItem{ID: orderPrefix + orderID, Outcome: string(outcome)}
	for _, l := range held {
		it.Lines = append(it.Lines, lineItem{ProductID: l.ProductID, Quantity: l.Quantity})
	}
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return err
	}
	if len(evts) > 0 {
		if av[outboxitem.Attribute], err = outboxitem.Encode(evts); err != nil {
			return err
		}
	}
	_, err = st.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &st.table, Item: av,
		ConditionExpression:       aws.String("attempt = :a AND attribute_not_exists(releaseRequested)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":a": s(attempt)},
	})
	if !isCCF(err) {
		return err
	}
	var now orderItem
	if _, err := st.getItem(ctx, orderPrefix+orderID, &now); err != nil {
		return err
	}
	if now.Attempt == attempt && now.ReleaseRequested {
		return errReleaseAsked
	}
	// Another attempt took the order over (this one outlived its lease): it
	// settles the order; a retry will read its outcome.
	return ErrBusy
}

// setReleased records that orderID was released before its reservation ended.
func (st *Store) setReleased(ctx context.Context, orderID, attempt string) error {
	_, err := st.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &st.table, Item: map[string]types.AttributeValue{KeyID: s(orderPrefix + orderID), "outcome": s(released)},
		ConditionExpression:       aws.String("attempt = :a"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":a": s(attempt)},
	})
	if isCCF(err) {
		return nil // another attempt took over and will settle it
	}
	return err
}

// Release implements inventory.Store.
func (st *Store) Release(ctx context.Context, orderID string, emit inventory.EmitRelease) error {
	id := orderPrefix + orderID
	for {
		var it orderItem
		found, err := st.getItem(ctx, id, &it)
		if err != nil {
			return fmt.Errorf("release order %s: %w", orderID, err)
		}
		switch {
		case !found:
			// Released before any reservation: remember it, so that a late one takes nothing.
			_, err := st.db.PutItem(ctx, &dynamodb.PutItemInput{
				TableName: &st.table, Item: map[string]types.AttributeValue{KeyID: s(id), "outcome": s(released)},
				ConditionExpression: aws.String("attribute_not_exists(id)"),
			})
			if isCCF(err) {
				continue // a reservation began meanwhile: look again
			}
			if err != nil {
				return fmt.Errorf("release order %s: %w", orderID, err)
			}
			return nil
		case it.Outcome == pending:
			// A reservation is under way: ask it to give everything back.
			_, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName: &st.table, Key: st.key(id),
				UpdateExpression:          aws.String("SET releaseRequested = :t REMOVE " + outboxitem.Attribute),
				ConditionExpression:       aws.String("outcome = :p AND attempt = :a"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":t": b(true), ":p": s(pending), ":a": s(it.Attempt)},
			})
			if isCCF(err) {
				continue // it ended meanwhile: look again
			}
			if err != nil {
				return fmt.Errorf("release order %s: %w", orderID, err)
			}
			return nil
		case it.Outcome == string(inventory.Reserved):
			lines := make([]inventory.Line, len(it.Lines))
			for i, l := range it.Lines {
				lines[i] = inventory.Line{ProductID: l.ProductID, Quantity: l.Quantity}
			}
			update := "SET outcome = :r REMOVE " + outboxitem.Attribute
			values := map[string]types.AttributeValue{":r": s(released), ":res": s(string(inventory.Reserved))}
			if emit != nil && len(lines) > 0 {
				evts, err := emit(lines)
				if err != nil {
					return err
				}
				if len(evts) > 0 {
					av, err := outboxitem.Encode(evts)
					if err != nil {
						return err
					}
					update, values[":o"] = "SET outcome = :r, "+outboxitem.Attribute+" = :o", av
				}
			}
			_, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName: &st.table, Key: st.key(id), UpdateExpression: aws.String(update),
				ConditionExpression: aws.String("outcome = :res"), ExpressionAttributeValues: values,
			})
			if isCCF(err) {
				continue // released by another call meanwhile: it gives the lines back
			}
			if err != nil {
				return fmt.Errorf("release order %s: %w", orderID, err)
			}
			if err := st.giveBack(ctx, orderID, lines); err != nil {
				return fmt.Errorf("release order %s: %w", orderID, err)
			}
			return nil
		case it.Outcome == released:
			// Released already; finish giving back in case a crash cut it short.
			lines := make([]inventory.Line, len(it.Lines))
			for i, l := range it.Lines {
				lines[i] = inventory.Line{ProductID: l.ProductID, Quantity: l.Quantity}
			}
			if err := st.giveBack(ctx, orderID, lines); err != nil {
				return fmt.Errorf("release order %s: %w", orderID, err)
			}
			return nil
		default:
			return nil // refused: the order holds nothing
		}
	}
}

// Commit implements inventory.Store: the order's item is marked shipped
// first, then each held line leaves the reserved count.
func (st *Store) Commit(ctx context.Context, orderID string) error {
	id := orderPrefix + orderID
	var it orderItem
	found, err := st.getItem(ctx, id, &it)
	if err != nil || !found {
		return err
	}
	switch it.Outcome {
	case string(inventory.Reserved):
		_, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: &st.table, Key: st.key(id),
			UpdateExpression:          aws.String("SET outcome = :s REMOVE " + outboxitem.Attribute),
			ConditionExpression:       aws.String("outcome = :r"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":s": s(shipped), ":r": s(string(inventory.Reserved))},
		})
		if isCCF(err) {
			return st.Commit(ctx, orderID) // released or shipped meanwhile: look again
		}
		if err != nil {
			return fmt.Errorf("commit order %s: %w", orderID, err)
		}
	case shipped:
	default:
		return nil // nothing held
	}
	for _, l := range it.Lines {
		_, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: &st.table, Key: st.key(l.ProductID),
			UpdateExpression:          aws.String("SET reserved = reserved - :q REMOVE holds.#o"),
			ConditionExpression:       aws.String("holds.#o = :q"),
			ExpressionAttributeNames:  map[string]string{"#o": orderID},
			ExpressionAttributeValues: map[string]types.AttributeValue{":q": n(int64(l.Quantity))},
		})
		if err != nil && !isCCF(err) {
			return fmt.Errorf("commit order %s: %w", orderID, err)
		}
	}
	return nil
}
