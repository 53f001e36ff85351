//go:build nolocal

package wire

import (
	"context"

	"github.com/eventshop/eventshop/internal/wiring"
)

// local is nil in Lambda builds: they run on DynamoDB only.
var local func(context.Context, wiring.Local) (wiring.Parts, error)
