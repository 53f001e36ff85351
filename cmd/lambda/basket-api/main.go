// Command basket-api is the basket service's HTTP API. Package function runs
// it from wire.Service.
package main

import (
	"github.com/eventshop/eventshop/cmd/lambda/internal/function"
	"github.com/eventshop/eventshop/internal/basket/wire"
)

func main() { function.API(wire.Service) }
