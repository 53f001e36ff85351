// Package wire is the payment service's descriptor (wiring.Service).
package wire

import (
	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/payment/app"
	"github.com/eventshop/eventshop/internal/payment/consumer"
	"github.com/eventshop/eventshop/internal/payment/dynamo"
	"github.com/eventshop/eventshop/internal/payment/simulator"
	"github.com/eventshop/eventshop/internal/wiring"
)

// Table is the environment variable naming the payments' table.
const Table = "PAYMENT_TABLE"

// Service is payment: it pays for reserved stock and settles cancelled
// orders' payments. Its provider is the simulator on both runtimes (no
// money moves): a real provider's adapter implements payment.Provider and
// takes its place here.
var Service = wiring.Service{
	Name: events.ServicePayment,
	Tables: []wiring.Table{
		{Env: Table, ID: "PaymentTable", Name: "payments", Input: dynamo.TableInput, Outbox: true},
	},
	Consumer: &wiring.Consumer{
		Grants: []wiring.Grant{{Table: Table, Actions: []string{"GetItem", "PutItem"}}},
		Build: func(d wiring.Dynamo) *eventbus.Consumer {
			return consumer.New(app.New(dynamo.New(d.DB, d.Tables[Table]), simulator.Simulator{}), d.Log)
		},
	},
	Local: local,
}
