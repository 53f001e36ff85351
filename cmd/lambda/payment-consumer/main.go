// Command payment-consumer is the payment service's consumer: it pays for
// reserved stock and settles cancelled orders' payments. Package function runs
// it from wire.Service.
package main

import (
	"github.com/eventshop/eventshop/cmd/lambda/internal/function"
	"github.com/eventshop/eventshop/internal/payment/wire"
)

func main() { function.Consumer(wire.Service) }
