// Package dynamo is the inventory service's store on DynamoDB, in two
// tables: stock, an item per product, and reservations, an item per order.
// Every change that touches both is one TransactWriteItems: a reservation is
// its order's item, put if there is none, and an update of each line's stock
// conditional on enough being available; releasing and selling change the
// reservation's outcome and the same lines' stock. A product's item holds
// its counts and nothing per order, so it stays small whatever the number of
// orders that hold it.
//
// A reservation's item carries the events of the write that made it
// (outbox), and every later write to it replaces or removes them, so that
// the stream publisher sends each event once per write. The stock table has
// no stream: nothing it holds is an event.
package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventshop/eventshop/internal/backoff"
	"github.com/eventshop/eventshop/internal/inventory"
	"github.com/eventshop/eventshop/internal/kind"
	"github.com/eventshop/eventshop/internal/outbox/outboxitem"
)

// KeyID is both tables' key: a product id in the stock table, an order id
// in the reservations table.
const KeyID = "id"

// TableInput describes the stock table; the CDK stack declares the same.
func TableInput(name string) *dynamodb.CreateTableInput { return idTable(name) }

// ReservationTableInput describes the reservations table; the CDK stack
// declares the same, with a stream for the publisher.
func ReservationTableInput(name string) *dynamodb.CreateTableInput { return idTable(name) }

func idTable(name string) *dynamodb.CreateTableInput {
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
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ inventory.Store = (*Store)(nil)

// Store implements inventory.Store.
type Store struct {
	db                  API
	stock, reservations string
	retry               backoff.Policy
}

// ErrNoReservations is what a reservation, release or sale answers on a
// store made without the reservations table (the inventory API's: it never
// reserves, and its role may not touch reservations).
var ErrNoReservations = errors.New("this inventory store has no reservations table")

// maxAttempts bounds the tries of one operation whose transactions other
// transactions keep cancelling (TransactionConflict), or whose reads were
// overtaken; then the error goes to the caller, and the message comes back.
const maxAttempts = 8

// New returns the store on the stock and reservations tables;
// reservationTable may be empty for a store that only reads and sets stock.
func New(db API, stockTable, reservationTable string) *Store {
	return &Store{db: db, stock: stockTable, reservations: reservationTable, retry: backoff.Policy{First: 10 * time.Millisecond, Max: 400 * time.Millisecond}}
}

// stockItem is a product's item.
type stockItem struct {
	ID             string `dynamodbav:"id"`
	Tracked        bool   `dynamodbav:"tracked"`
	Available      int    `dynamodbav:"available"`
	Reserved       int    `dynamodbav:"reserved"`
	Deleted        bool   `dynamodbav:"deleted"`
	Version        int64  `dynamodbav:"version"`
	CatalogVersion int64  `dynamodbav:"catalogVersion"`
}

func (it stockItem) stock() inventory.Stock {
	return inventory.Stock{ProductID: it.ID, Tracked: it.Tracked, Available: it.Available, Reserved: it.Reserved, Deleted: it.Deleted, Version: it.Version, CatalogVersion: it.CatalogVersion}
}

// reservationItem is an order's reservation: its outcome, and the tracked
// lines it holds (or held, once released or sold).
type reservationItem struct {
	ID      string     `dynamodbav:"id"`
	Outcome string     `dynamodbav:"outcome"` // an inventory.ReservationOutcome, released or shipped
	Lines   []lineItem `dynamodbav:"lines,omitempty"`
}

type lineItem struct {
	ProductID string `dynamodbav:"productId"`
	Quantity  int    `dynamodbav:"quantity"`
}

// Outcomes a reservation item reaches after its reservation.
const (
	released = "released" // given back, or released before it was made
	shipped  = "shipped"  // sold
)

func (r reservationItem) lines() []inventory.Need {
	out := make([]inventory.Need, len(r.Lines))
	for i, l := range r.Lines {
		out[i] = inventory.Need{ProductID: l.ProductID, Quantity: l.Quantity}
	}
	return out
}

// outcome is what a reservation reports when asked again.
func (r reservationItem) outcome() inventory.ReservationOutcome {
	switch r.Outcome {
	case released:
		return inventory.AlreadyReleased
	case shipped:
		return inventory.Reserved
	}
	return inventory.ReservationOutcome(r.Outcome)
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func isCCF(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

func key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{KeyID: s(id)}
}

func (st *Store) getItem(ctx context.Context, table, id string, v any) (bool, error) {
	out, err := st.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key(id), ConsistentRead: aws.Bool(true)})
	if err != nil || len(out.Item) == 0 {
		return false, err
	}
	return true, attributevalue.UnmarshalMap(out.Item, v)
}

// Get implements inventory.Store.
func (st *Store) Get(ctx context.Context, productID string) (inventory.Stock, error) {
	var it stockItem
	found, err := st.getItem(ctx, st.stock, productID, &it)
	if err != nil {
		return inventory.Stock{}, fmt.Errorf("stock of %s: %w", productID, err)
	}
	if !found {
		return inventory.Stock{}, fmt.Errorf("stock of %s: %w", productID, inventory.ErrNotFound)
	}
	return it.stock(), nil
}

// Announce implements inventory.Store with an update conditional on the
// catalog version being newer; a new product's item starts untracked.
func (st *Store) Announce(ctx context.Context, productID string, catalogVersion int64, deleted bool) (bool, error) {
	_, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &st.stock, Key: key(productID),
		UpdateExpression: aws.String("SET deleted = :d, catalogVersion = :v, tracked = if_not_exists(tracked, :f), available = if_not_exists(available, :zero), " +
			"reserved = if_not_exists(reserved, :zero), version = if_not_exists(version, :zero)"),
		ConditionExpression: aws.String("attribute_not_exists(id) OR catalogVersion < :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":d": boolean(deleted), ":v": n(catalogVersion), ":f": boolean(false), ":zero": n(0),
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

func boolean(v bool) types.AttributeValue { return &types.AttributeValueMemberBOOL{Value: v} }

// SetAvailable implements inventory.Store with one update, conditional on
// the item existing and not being deleted, and, if ifVersion is given, on
// its version: a set without a version is never refused for a change that
// landed before it. A failed condition is told apart by reading the item.
func (st *Store) SetAvailable(ctx context.Context, productID string, available int, ifVersion int64) (inventory.Stock, error) {
	cond := "attribute_exists(id) AND deleted = :f"
	values := map[string]types.AttributeValue{":t": boolean(true), ":a": n(int64(available)), ":one": n(1), ":f": boolean(false)}
	if ifVersion != 0 {
		cond += " AND version = :cur"
		values[":cur"] = n(ifVersion)
	}
	out, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &st.stock, Key: key(productID),
		UpdateExpression:          aws.String("SET tracked = :t, available = :a, version = version + :one"),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeValues: values,
		ReturnValues:              types.ReturnValueAllNew,
	})
	if isCCF(err) {
		now, err := st.Get(ctx, productID)
		switch {
		case err != nil:
			return inventory.Stock{}, fmt.Errorf("set stock: %w", err)
		case now.Deleted:
			return inventory.Stock{}, fmt.Errorf("set stock of %s: %w", productID, inventory.ErrDeleted)
		}
		return inventory.Stock{}, fmt.Errorf("set stock of %s: %w", productID, inventory.ErrVersionConflict)
	}
	if err != nil {
		return inventory.Stock{}, fmt.Errorf("set stock of %s: %w", productID, err)
	}
	return decodeStock(out.Attributes)
}

// Adjust implements inventory.Store with one update conditional on the
// product being tracked and the result staying from 0 to MaxAvailable; a
// failed condition is told apart by reading the item.
func (st *Store) Adjust(ctx context.Context, productID string, delta int) (inventory.Stock, error) {
	out, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &st.stock, Key: key(productID),
		UpdateExpression:    aws.String("SET available = available + :d, version = version + :one"),
		ConditionExpression: aws.String("attribute_exists(id) AND tracked = :t AND deleted = :f AND available >= :low AND available <= :high"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":t": boolean(true), ":f": boolean(false), ":d": n(int64(delta)), ":one": n(1),
			":low": n(int64(max(0, -delta))), ":high": n(int64(inventory.MaxAvailable - max(0, delta))),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if isCCF(err) {
		was, err := st.Get(ctx, productID)
		if err != nil {
			return inventory.Stock{}, fmt.Errorf("adjust: %w", err)
		}
		return inventory.Stock{}, fmt.Errorf("adjust stock of %s: %w", productID, inventory.AdjustRefused(was, delta))
	}
	if err != nil {
		return inventory.Stock{}, fmt.Errorf("adjust stock of %s: %w", productID, err)
	}
	return decodeStock(out.Attributes)
}

func decodeStock(av map[string]types.AttributeValue) (inventory.Stock, error) {
	var it stockItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return inventory.Stock{}, fmt.Errorf("decode stock: %w", err)
	}
	return it.stock(), nil
}

// Reserve implements inventory.Store. It reads the order's reservation and
// its lines' stock in one request; with no reservation yet and enough stock,
// it writes the reservation and takes every tracked line in one
// transaction, whose conditions hold the stock to what was read: enough
// available, and each untracked product still untracked. A cancelled
// transaction tells why in its reasons: the reservation exists now (a
// repeat, or a release came first), a line is short or deleted (a refusal,
// written as the reservation), or an item was held by another transaction
// or changed since the read (tried again).
func (st *Store) Reserve(ctx context.Context, orderID string, lines []inventory.Need, emit inventory.EmitReserve) (inventory.ReservationOutcome, error) {
	if st.reservations == "" {
		return "", ErrNoReservations
	}
	if len(lines) > inventory.MaxLines {
		return "", fmt.Errorf("reserve for order %s: %d lines, more than one transaction holds (%d)", orderID, len(lines), inventory.MaxLines)
	}
	for attempt := 1; ; attempt++ {
		outcome, done, err := st.tryReserve(ctx, attempt, orderID, lines, emit)
		if err != nil {
			return "", fmt.Errorf("reserve for order %s: %w", orderID, err)
		}
		if done {
			return outcome, nil
		}
		if attempt == maxAttempts {
			return "", fmt.Errorf("reserve for order %s: %w", orderID, errContended)
		}
		if err := st.retry.Sleep(ctx, attempt); err != nil {
			return "", err
		}
	}
}

// errContended reports an operation whose every attempt met another
// transaction on the same items.
var errContended = kind.New(kind.Unavailable, "other transactions kept holding the same stock; try again")

// tryReserve makes attempt (from 1); done is false when it should be made again.
func (st *Store) tryReserve(ctx context.Context, attempt int, orderID string, lines []inventory.Need, emit inventory.EmitReserve) (outcome inventory.ReservationOutcome, done bool, err error) {
	prev, stocks, err := st.read(ctx, orderID, lines)
	switch {
	case err != nil:
		return "", false, err
	case prev != nil:
		return prev.outcome(), true, nil
	}
	stock := map[string]inventory.Stock{}
	for id, it := range stocks {
		stock[id] = it.stock()
	}
	plan := inventory.PlanReservation(lines, stock)
	if plan.Outcome != inventory.Reserved {
		return st.refuse(ctx, orderID, plan.Outcome, plan.Short, emit)
	}
	item := reservationItem{ID: orderID, Outcome: string(inventory.Reserved)}
	actions := []types.TransactWriteItem{{}} // the reservation's put, set below
	for _, h := range plan.Holds {
		if !h.Tracked {
			// Untracked, or not announced yet: reservable, as long as nobody
			// starts tracking it meanwhile.
			actions = append(actions, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
				TableName: &st.stock, Key: key(h.ProductID),
				ConditionExpression:                 aws.String("attribute_not_exists(id) OR (tracked = :f AND deleted = :f)"),
				ExpressionAttributeValues:           map[string]types.AttributeValue{":f": boolean(false)},
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
			}})
			continue
		}
		item.Lines = append(item.Lines, lineItem{ProductID: h.ProductID, Quantity: h.Quantity})
		actions = append(actions, types.TransactWriteItem{Update: &types.Update{
			TableName: &st.stock, Key: key(h.ProductID),
			UpdateExpression:                    aws.String("SET available = available - :q, reserved = reserved + :q, version = version + :one"),
			ConditionExpression:                 aws.String("tracked = :t AND deleted = :f AND available >= :q"),
			ExpressionAttributeValues:           map[string]types.AttributeValue{":q": n(int64(h.Quantity)), ":one": n(1), ":t": boolean(true), ":f": boolean(false)},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}})
	}
	put, err := st.putReservation(item, emit, inventory.Reserved, nil)
	if err != nil {
		return "", false, err
	}
	actions[0] = types.TransactWriteItem{Put: put}
	err = st.transact(ctx, attempt, actions)
	var canceled *types.TransactionCanceledException
	if !errors.As(err, &canceled) {
		return inventory.Reserved, err == nil, err
	}
	if !retriable(canceled) || len(canceled.CancellationReasons) != len(actions) {
		return "", false, err
	}
	if code(canceled.CancellationReasons[0]) == "ConditionalCheckFailed" {
		return "", false, nil // the reservation exists now: the next attempt reads it
	}
	// The items whose conditions failed, as they were: the same rule
	// decides on them. A product that was untracked when read and is
	// tracked now changed under the attempt: it is made again.
	var failed []inventory.Need
	now := map[string]inventory.Stock{}
	for i, r := range canceled.CancellationReasons[1:] {
		if code(r) != "ConditionalCheckFailed" {
			continue
		}
		var was stockItem
		if err := attributevalue.UnmarshalMap(r.Item, &was); err != nil {
			return "", false, err
		}
		l := lines[i]
		if was.Tracked && !stocks[l.ProductID].Tracked && !was.Deleted {
			continue
		}
		failed, now[l.ProductID] = append(failed, l), was.stock()
	}
	if again := inventory.PlanReservation(failed, now); again.Outcome != inventory.Reserved {
		return st.refuse(ctx, orderID, again.Outcome, again.Short, emit)
	}
	return "", false, nil // held by another transaction, or tracked since the read: again
}

func code(r types.CancellationReason) string { return aws.ToString(r.Code) }

// refuse writes a refused reservation with its events; if the order's
// reservation exists by now, the attempt is made again (and reads it).
func (st *Store) refuse(ctx context.Context, orderID string, outcome inventory.ReservationOutcome, short []string, emit inventory.EmitReserve) (inventory.ReservationOutcome, bool, error) {
	put, err := st.putReservation(reservationItem{ID: orderID, Outcome: string(outcome)}, emit, outcome, short)
	if err != nil {
		return "", false, err
	}
	_, err = st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: put.TableName, Item: put.Item, ConditionExpression: put.ConditionExpression})
	if isCCF(err) {
		return "", false, nil
	}
	return outcome, err == nil, err
}

// putReservation is the put of a new reservation item, with the events emit
// gives for outcome (and, for a refusal, the products short).
func (st *Store) putReservation(item reservationItem, emit inventory.EmitReserve, outcome inventory.ReservationOutcome, short []string) (*types.Put, error) {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return nil, err
	}
	if emit != nil {
		evts, err := emit(outcome, short)
		if err != nil {
			return nil, err
		}
		if len(evts) > 0 {
			if av[outboxitem.Attribute], err = outboxitem.Encode(evts); err != nil {
				return nil, err
			}
		}
	}
	return &types.Put{TableName: &st.reservations, Item: av, ConditionExpression: aws.String("attribute_not_exists(id)")}, nil
}

// read reads orderID's reservation (nil if there is none) and the stock of
// lines' products (a product never announced is absent), strongly
// consistent, in one BatchGetItem (and more for keys it leaves unprocessed).
func (st *Store) read(ctx context.Context, orderID string, lines []inventory.Need) (*reservationItem, map[string]stockItem, error) {
	keys := make([]map[string]types.AttributeValue, len(lines))
	for i, l := range lines {
		keys[i] = key(l.ProductID)
	}
	var prev *reservationItem
	stocks := make(map[string]stockItem, len(lines))
	request := map[string]types.KeysAndAttributes{
		st.stock:        {Keys: keys, ConsistentRead: aws.Bool(true)},
		st.reservations: {Keys: []map[string]types.AttributeValue{key(orderID)}, ConsistentRead: aws.Bool(true)},
	}
	for attempt := 1; len(request) > 0; attempt++ {
		if attempt > 1 {
			if attempt > maxAttempts {
				return nil, nil, errContended
			}
			if err := st.retry.Sleep(ctx, attempt-1); err != nil {
				return nil, nil, err
			}
		}
		got, err := st.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: request})
		if err != nil {
			return nil, nil, fmt.Errorf("read stock: %w", err)
		}
		for _, av := range got.Responses[st.stock] {
			var it stockItem
			if err := attributevalue.UnmarshalMap(av, &it); err != nil {
				return nil, nil, fmt.Errorf("read stock: %w", err)
			}
			stocks[it.ID] = it
		}
		for _, av := range got.Responses[st.reservations] {
			prev = &reservationItem{}
			if err := attributevalue.UnmarshalMap(av, prev); err != nil {
				return nil, nil, fmt.Errorf("read reservation: %w", err)
			}
		}
		request = got.UnprocessedKeys
	}
	return prev, stocks, nil
}

// transact runs actions as one transaction, attempt (from 1) of the
// caller's, under a client request token that is a digest of both: the
// SDK's retry of an attempt whose answer was lost replays it under the
// same token (DynamoDB answers the success it was, for 10 minutes), while
// each new attempt after a cancellation, and each request that differs in
// anything (its values' types included), has a token of its own.
func (st *Store) transact(ctx context.Context, attempt int, actions []types.TransactWriteItem) error {
	token, err := requestToken(attempt, actions)
	if err != nil {
		return err
	}
	_, err = st.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: actions, ClientRequestToken: &token})
	return err
}

// requestToken is the digest of attempt and actions, as long as DynamoDB
// takes a token (36 characters).
func requestToken(attempt int, actions []types.TransactWriteItem) (string, error) {
	body, err := json.Marshal([]any{attempt, typed(reflect.ValueOf(actions))})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:18]), nil
}

// typed is v as plain values for JSON in which each value held by an
// interface names its concrete type: an attribute value is {"S": "5"} or
// {"N": "5"}, never "5" alone.
func typed(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Invalid:
		return nil
	case reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return map[string]any{v.Elem().Type().String(): typed(v.Elem())}
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return typed(v.Elem())
	case reflect.Struct:
		out := map[string]any{}
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				out[f.Name] = typed(v.Field(i))
			}
		}
		return out
	case reflect.Map:
		out := map[string]any{}
		for _, k := range v.MapKeys() {
			out[fmt.Sprint(k.Interface())] = typed(v.MapIndex(k))
		}
		return out
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 && v.Kind() == reflect.Slice {
			return v.Bytes()
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = typed(v.Index(i))
		}
		return out
	}
	return v.Interface()
}

// Release implements inventory.Store: a reserved order's outcome becomes
// released and its lines go back to available, in one transaction; an order
// with no reservation gets one, released, so that a late reservation takes
// nothing.
func (st *Store) Release(ctx context.Context, orderID string, emit inventory.EmitRelease) error {
	if st.reservations == "" {
		return ErrNoReservations
	}
	err := st.settle(ctx, orderID, true, func(r reservationItem) (*types.Update, []types.TransactWriteItem, error) {
		update := &types.Update{
			TableName: &st.reservations, Key: key(orderID),
			UpdateExpression:          aws.String("SET outcome = :to REMOVE " + outboxitem.Attribute),
			ConditionExpression:       aws.String("outcome = :from"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":to": s(released), ":from": s(string(inventory.Reserved))},
		}
		if emit != nil && len(r.Lines) > 0 {
			evts, err := emit(r.lines())
			if err != nil {
				return nil, nil, err
			}
			if len(evts) > 0 {
				if update.ExpressionAttributeValues[":o"], err = outboxitem.Encode(evts); err != nil {
					return nil, nil, err
				}
				update.UpdateExpression = aws.String("SET outcome = :to, " + outboxitem.Attribute + " = :o")
			}
		}
		return update, st.lineUpdates(r, "SET available = available + :q, reserved = reserved - :q, version = version + :one"), nil
	})
	if err != nil {
		return fmt.Errorf("release order %s: %w", orderID, err)
	}
	return nil
}

// Commit implements inventory.Store: a reserved order's outcome becomes
// shipped and its lines leave the reserved counts, in one transaction. An
// order never reserved holds nothing to sell.
func (st *Store) Commit(ctx context.Context, orderID string) error {
	if st.reservations == "" {
		return ErrNoReservations
	}
	err := st.settle(ctx, orderID, false, func(r reservationItem) (*types.Update, []types.TransactWriteItem, error) {
		return &types.Update{
			TableName: &st.reservations, Key: key(orderID),
			UpdateExpression:          aws.String("SET outcome = :to REMOVE " + outboxitem.Attribute),
			ConditionExpression:       aws.String("outcome = :from"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":to": s(shipped), ":from": s(string(inventory.Reserved))},
		}, st.lineUpdates(r, "SET reserved = reserved - :q, version = version + :one"), nil
	})
	if err != nil {
		return fmt.Errorf("commit order %s: %w", orderID, err)
	}
	return nil
}

// lineUpdates applies update to the stock of each line r holds.
func (st *Store) lineUpdates(r reservationItem, update string) []types.TransactWriteItem {
	out := make([]types.TransactWriteItem, 0, len(r.Lines))
	for _, l := range r.Lines {
		out = append(out, types.TransactWriteItem{Update: &types.Update{
			TableName: &st.stock, Key: key(l.ProductID), UpdateExpression: aws.String(update),
			ExpressionAttributeValues: map[string]types.AttributeValue{":q": n(int64(l.Quantity)), ":one": n(1)},
		}})
	}
	return out
}

// settle moves orderID's reservation on from reserved: change gives the
// reservation's update (conditional on it still being reserved) and the
// lines' updates. A reservation in any other state is left as it is; a
// missing one is written released if releaseMissing, and left missing
// otherwise.
func (st *Store) settle(ctx context.Context, orderID string, releaseMissing bool, change func(reservationItem) (*types.Update, []types.TransactWriteItem, error)) error {
	for attempt := 1; ; attempt++ {
		var r reservationItem
		found, err := st.getItem(ctx, st.reservations, orderID, &r)
		switch {
		case err != nil:
			return err
		case !found && !releaseMissing:
			return nil
		case !found:
			// Released (or sold) before any reservation: remember it, so that a late one takes nothing.
			_, err = st.db.PutItem(ctx, &dynamodb.PutItemInput{
				TableName: &st.reservations, Item: map[string]types.AttributeValue{KeyID: s(orderID), "outcome": s(released)},
				ConditionExpression: aws.String("attribute_not_exists(id)"),
			})
			if !isCCF(err) {
				return err
			}
		case r.Outcome != string(inventory.Reserved):
			return nil // released, refused or sold already: nothing held
		default:
			update, lines, err := change(r)
			if err != nil {
				return err
			}
			err = st.transact(ctx, attempt, append([]types.TransactWriteItem{{Update: update}}, lines...))
			var canceled *types.TransactionCanceledException
			if !errors.As(err, &canceled) || !retriable(canceled) {
				return err
			}
		}
		if attempt == maxAttempts {
			return errContended
		}
		if err := st.retry.Sleep(ctx, attempt); err != nil {
			return err
		}
	}
}

// retriable reports whether a cancelled transaction may go through if made
// again: its reasons are conditions overtaken by another write, conflicts
// with other transactions, or throttling.
func retriable(e *types.TransactionCanceledException) bool {
	for _, r := range e.CancellationReasons {
		switch code(r) {
		case "None", "ConditionalCheckFailed", "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded":
		default:
			return false
		}
	}
	return true
}
