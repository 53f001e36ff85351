package dynamo_test

import (
	"os"
	"testing"

	"github.com/eventshop/eventshop/internal/dynamotest"
	"github.com/eventshop/eventshop/internal/ordering"
	"github.com/eventshop/eventshop/internal/ordering/dynamo"
	"github.com/eventshop/eventshop/internal/ordering/storetest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) ordering.Store {
		db := dynamotest.Client(t)
		return dynamo.New(db, dynamotest.Table(t, db, dynamo.TableInput))
	})
}
