package dynamo_test

import (
	"os"
	"testing"

	"github.com/eventshop/eventshop/internal/dynamotest"
	"github.com/eventshop/eventshop/internal/payment"
	"github.com/eventshop/eventshop/internal/payment/dynamo"
	"github.com/eventshop/eventshop/internal/payment/storetest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) payment.Store {
		db := dynamotest.Client(t)
		return dynamo.New(db, dynamotest.Table(t, db, dynamo.TableInput))
	})
}
