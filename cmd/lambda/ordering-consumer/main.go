// Command ordering-consumer is the ordering service's consumer: it makes
// orders of checkouts and moves them along the saga's events. Package function
// runs it from wire.Service.
package main

import (
	"github.com/eventshop/eventshop/cmd/lambda/internal/function"
	"github.com/eventshop/eventshop/internal/ordering/wire"
)

func main() { function.Consumer(wire.Service) }
