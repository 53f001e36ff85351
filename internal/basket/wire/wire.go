// Package wire is the basket service's descriptor (wiring.Service).
package wire

import (
	"net/http"

	"github.com/eventshop/eventshop/internal/basket/app"
	"github.com/eventshop/eventshop/internal/basket/consumer"
	"github.com/eventshop/eventshop/internal/basket/dynamo"
	"github.com/eventshop/eventshop/internal/basket/httpapi"
	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/wiring"
)

// The environment variables naming the basket's tables.
const (
	BasketTable = "BASKET_TABLE"
	PriceTable  = "PRICE_TABLE"
)

// Service is the basket: each user's basket and its checkout, priced from a
// view of the catalog's prices that its consumer keeps.
var Service = wiring.Service{
	Name: events.ServiceBasket,
	Tables: []wiring.Table{
		{Env: BasketTable, ID: "BasketTable", Name: "baskets", Input: dynamo.BasketTableInput, Outbox: true},
		{Env: PriceTable, ID: "PriceTable", Name: "prices", Input: dynamo.PriceTableInput},
	},
	API: &wiring.API{
		Routes: httpapi.Routes(),
		Grants: []wiring.Grant{
			{Table: BasketTable, Actions: []string{"GetItem", "PutItem", "UpdateItem", "Scan"}},
			// A checkout's transaction checks the prices it read.
			{Table: PriceTable, Actions: []string{"BatchGetItem", "ConditionCheckItem"}},
		},
		Build: func(d wiring.Dynamo) func(*http.ServeMux) {
			store := dynamo.NewAt(d.DB, d.Tables[BasketTable], d.Tables[PriceTable], d.Clock())
			uc := app.New(store, store)
			return func(mux *http.ServeMux) { httpapi.Register(mux, uc, d.Log, d.Guard) }
		},
	},
	Consumer: &wiring.Consumer{
		Grants: []wiring.Grant{{Table: PriceTable, Actions: []string{"PutItem"}}},
		Build: func(d wiring.Dynamo) *eventbus.Consumer {
			return consumer.New(app.NewPrices(dynamo.NewPriceView(d.DB, d.Tables[PriceTable])), d.Log)
		},
	},
	Local: local,
}
