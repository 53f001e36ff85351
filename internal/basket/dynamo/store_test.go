package dynamo_test

import (
	"os"
	"testing"

	"github.com/eventshop/eventshop/internal/basket"
	"github.com/eventshop/eventshop/internal/basket/dynamo"
	"github.com/eventshop/eventshop/internal/basket/storetest"
	"github.com/eventshop/eventshop/internal/dynamotest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

func open(t *testing.T) *dynamo.Store {
	db := dynamotest.Client(t)
	return dynamo.New(db, dynamotest.Table(t, db, dynamo.BasketTableInput), dynamotest.Table(t, db, dynamo.PriceTableInput))
}

func TestStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) basket.Store { return open(t) })
}

func TestPriceViewContract(t *testing.T) {
	storetest.RunPriceView(t, func(t *testing.T) basket.PriceView { return open(t) })
}
