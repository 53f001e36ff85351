// Package awsenv names what the Lambda functions and the CDK stack must agree
// on: the functions, and the environment variables each one's main requires
// and the stack sets. Both import these names, so they cannot drift apart.
package awsenv

import (
	"strings"
)

// Environment variables.
const (
	CatalogTable   = "CATALOG_TABLE"
	BasketTable    = "BASKET_TABLE"
	PriceTable     = "PRICE_TABLE"
	OrderTable     = "ORDER_TABLE"
	InventoryTable = "INVENTORY_TABLE"
	// ReservationTable keeps each order's reservation of stock.
	ReservationTable = "RESERVATION_TABLE"
	PaymentTable     = "PAYMENT_TABLE"
	EventBusName     = "EVENT_BUS_NAME"
	// ParkedTable keeps the stream records the outbox publisher set aside.
	ParkedTable = "PARKED_TABLE"
	// IdempotencyTable keeps the responses of requests sent with an Idempotency-Key.
	IdempotencyTable = "IDEMPOTENCY_TABLE"
	// EventSources lists, comma-separated, the event sources a publisher
	// may send: its table's service's (events.SourcesOf).
	EventSources = "EVENT_SOURCES"
)

// MetricsNamespace is the CloudWatch namespace of the functions' EMF
// metrics, which the stack's dashboards chart.
const MetricsNamespace = "EventShop"

// Functions: each is a directory under cmd/lambda, built by make lambdas.
const (
	CatalogAPI        = "catalog-api"
	BasketAPI         = "basket-api"
	BasketConsumer    = "basket-consumer"
	OrderingAPI       = "ordering-api"
	OrderingConsumer  = "ordering-consumer"
	OutboxPublisher   = "outbox-publisher"
	OutboxRepublish   = "outbox-republish"
	CognitoPreSignUp  = "cognito-pre-signup"
	InventoryConsumer = "inventory-consumer"
	PaymentConsumer   = "payment-consumer"
	InventoryAPI      = "inventory-api"
)

// Required lists, for each function, the variables its main requires; the
// stack sets exactly these.
var Required = map[string][]string{
	CatalogAPI:        {CatalogTable, IdempotencyTable},
	BasketAPI:         {BasketTable, PriceTable, IdempotencyTable},
	BasketConsumer:    {PriceTable},
	OrderingAPI:       {OrderTable},
	OrderingConsumer:  {OrderTable},
	OutboxPublisher:   {EventBusName, ParkedTable, EventSources},
	OutboxRepublish:   {EventBusName, ParkedTable, EventSources},
	CognitoPreSignUp:  {},
	InventoryConsumer: {InventoryTable, ReservationTable},
	PaymentConsumer:   {PaymentTable},
	InventoryAPI:      {InventoryTable},
}

// ServiceOf is the service a function is part of, its service.name in
// telemetry: "ordering" for OrderingAPI and OrderingConsumer; the outbox
// publishers serve every service ("outbox"), the sign-up trigger the user
// pool ("identity").
func ServiceOf(function string) string {
	switch function {
	case OutboxPublisher, OutboxRepublish:
		return "outbox"
	case CognitoPreSignUp:
		return "identity"
	}
	service, _, _ := strings.Cut(function, "-")
	return service
}

// ConsumerFunction names the consumer function of a service (an
// eventbus.Rule's Consumer): "basket" is BasketConsumer's "basket-consumer".
func ConsumerFunction(service string) string { return service + "-consumer" }
