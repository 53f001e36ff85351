// Command basket-consumer is the basket service's consumer: it keeps the price
// view current from the catalog's events. Package function runs it from
// wire.Service.
package main

import (
	"github.com/eventshop/eventshop/cmd/lambda/internal/function"
	"github.com/eventshop/eventshop/internal/basket/wire"
)

func main() { function.Consumer(wire.Service) }
