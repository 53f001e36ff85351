// Package wire is the ordering service's descriptor (wiring.Service).
package wire

import (
	"net/http"

	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/ordering/app"
	"github.com/eventshop/eventshop/internal/ordering/consumer"
	"github.com/eventshop/eventshop/internal/ordering/dynamo"
	"github.com/eventshop/eventshop/internal/ordering/httpapi"
	"github.com/eventshop/eventshop/internal/wiring"
)

// Table is the environment variable naming the orders' table.
const Table = "ORDER_TABLE"

// Service is ordering: orders made from checkouts, moved along their life
// by the saga's events, read, cancelled and shipped through its API.
var Service = wiring.Service{
	Name: events.ServiceOrdering,
	Tables: []wiring.Table{
		{Env: Table, ID: "OrderTable", Name: "orders", Input: dynamo.TableInput, Outbox: true},
	},
	API: &wiring.API{
		Routes: httpapi.Routes(),
		// Cancel and ship write the order; listing orders by status queries
		// the table's status index.
		Grants: []wiring.Grant{{Table: Table, Actions: []string{"GetItem", "PutItem", "Query"}, Indexes: []string{"Query"}}},
		Build: func(d wiring.Dynamo) func(*http.ServeMux) {
			uc := app.New(dynamo.New(d.DB, d.Tables[Table]))
			return func(mux *http.ServeMux) { httpapi.Register(mux, uc, d.Log, d.Guard) }
		},
	},
	Consumer: &wiring.Consumer{
		Grants: []wiring.Grant{{Table: Table, Actions: []string{"GetItem", "PutItem"}}},
		Build: func(d wiring.Dynamo) *eventbus.Consumer {
			return consumer.New(app.New(dynamo.New(d.DB, d.Tables[Table])), d.Log)
		},
	},
	Local: local,
}
