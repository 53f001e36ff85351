// Package wire is the catalog service's descriptor (wiring.Service).
package wire

import (
	"net/http"

	"github.com/eventshop/eventshop/internal/catalog/app"
	"github.com/eventshop/eventshop/internal/catalog/dynamo"
	"github.com/eventshop/eventshop/internal/catalog/httpapi"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/wiring"
)

// Table is the environment variable naming the products' table.
const Table = "CATALOG_TABLE"

// Service is the catalog: products, their events, and an API to list and
// change them.
var Service = wiring.Service{
	Name: events.ServiceCatalog,
	Tables: []wiring.Table{
		{Env: Table, ID: "ProductTable", Name: "products", Input: dynamo.TableInput, Outbox: true, TTL: dynamo.TTLAttribute},
	},
	API: &wiring.API{
		Routes: httpapi.Routes(),
		// Listing a category queries the table's category index.
		Grants: []wiring.Grant{{Table: Table, Actions: []string{"GetItem", "PutItem", "Query", "Scan"}, Indexes: []string{"Query"}}},
		Build: func(d wiring.Dynamo) func(*http.ServeMux) {
			uc := app.New(dynamo.New(d.DB, d.Tables[Table]))
			return func(mux *http.ServeMux) { httpapi.Register(mux, uc, d.Log, d.Guard) }
		},
	},
	Local: local,
}
