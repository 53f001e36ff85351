package dynamo_test

import (
	"os"
	"testing"

	"github.com/eventshop/eventshop/internal/catalog"
	"github.com/eventshop/eventshop/internal/catalog/app"
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

// A write the SDK sent twice (its first answer lost) is not a conflict with itself.
func TestRetriedWritesAreNotConflicts(t *testing.T) {
	db := dynamotest.Client(t)
	uc := app.New(dynamo.New(dynamotest.RetriedPuts{Client: db}, dynamotest.Table(t, db, dynamo.TableInput)))
	p, err := uc.Create(t.Context(), catalog.Details{Name: "Widget", Category: "Tools", Price: 1999})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if p, err = uc.Update(t.Context(), p.ID, catalog.Details{Name: "Widget", Category: "Tools", Price: 2500}, 0); err != nil || p.Version != 2 {
		t.Fatalf("update: %+v, %v", p, err)
	}
	if err := uc.Delete(t.Context(), p.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
}
