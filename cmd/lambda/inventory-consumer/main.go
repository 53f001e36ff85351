// Command inventory-consumer is the inventory's consumer: it keeps its list of
// products current, and reserves, releases and sells orders' stock. Package
// function runs it from wire.Service.
package main

import (
	"github.com/eventshop/eventshop/cmd/lambda/internal/function"
	"github.com/eventshop/eventshop/internal/inventory/wire"
)

func main() { function.Consumer(wire.Service) }
