// Command inventory-api is the inventory's HTTP API. Package function runs it
// from wire.Service.
package main

import (
	"github.com/eventshop/eventshop/cmd/lambda/internal/function"
	"github.com/eventshop/eventshop/internal/inventory/wire"
)

func main() { function.API(wire.Service) }
