// Package wire is the inventory service's descriptor (wiring.Service).
package wire

import (
	"net/http"

	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/inventory/app"
	"github.com/eventshop/eventshop/internal/inventory/consumer"
	"github.com/eventshop/eventshop/internal/inventory/dynamo"
	"github.com/eventshop/eventshop/internal/inventory/httpapi"
	"github.com/eventshop/eventshop/internal/wiring"
)

// The environment variables naming the inventory's tables.
const (
	StockTable = "INVENTORY_TABLE"
	// ReservationTable keeps each order's reservation of stock.
	ReservationTable = "RESERVATION_TABLE"
)

// Service is the inventory: stock per product, set through its API, and
// each order's reservation of it, which its consumer makes and gives back.
var Service = wiring.Service{
	Name: events.ServiceInventory,
	Tables: []wiring.Table{
		// Stock per product: no stream, it holds no events.
		{Env: StockTable, ID: "InventoryTable", Name: "inventory", Input: dynamo.TableInput},
		// Reservations per order, whose items carry the inventory's events.
		{Env: ReservationTable, ID: "ReservationTable", Name: "reservations", Input: dynamo.ReservationTableInput, Outbox: true},
	},
	API: &wiring.API{
		Routes: httpapi.Routes(),
		// The API reads and sets stock; it may not touch reservations,
		// whose items carry the events the publisher sends.
		Grants: []wiring.Grant{{Table: StockTable, Actions: []string{"GetItem", "UpdateItem"}}},
		Build: func(d wiring.Dynamo) func(*http.ServeMux) {
			uc := app.New(dynamo.New(d.DB, d.Tables[StockTable], d.Tables[ReservationTable]))
			return func(mux *http.ServeMux) { httpapi.Register(mux, uc, d.Log) }
		},
	},
	Consumer: &wiring.Consumer{
		Grants: []wiring.Grant{
			{Table: StockTable, Actions: []string{"BatchGetItem", "UpdateItem", "ConditionCheckItem"}},
			{Table: ReservationTable, Actions: []string{"BatchGetItem", "GetItem", "PutItem", "UpdateItem"}},
		},
		Build: func(d wiring.Dynamo) *eventbus.Consumer {
			return consumer.New(app.New(dynamo.New(d.DB, d.Tables[StockTable], d.Tables[ReservationTable])), d.Log)
		},
	},
	Local: local,
}
