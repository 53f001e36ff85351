package dynamo_test

import (
	"os"
	"testing"

	"github.com/eventshop/eventshop/internal/catalog"
	"github.com/eventshop/eventshop/internal/catalog/dynamo"
	"github.com/eventshop/eventshop/internal/catalog/storetest"
	"github.com/eventshop/eventshop/internal/dynamotest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) catalog.Store {
		db := dynamotest.Client(t)
		return dynamo.New(db, dynamotest.Table(t, db, dynamo.TableInput))
	})
}
