package httpapi_test

import (
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/eventshop/eventshop/internal/auth"
	"github.com/eventshop/eventshop/internal/basket/app"
	"github.com/eventshop/eventshop/internal/basket/httpapi"
	"github.com/eventshop/eventshop/internal/basket/sqlite"
	"github.com/eventshop/eventshop/internal/idempotency/idemtest"
	"github.com/eventshop/eventshop/internal/rest/resttest"
)

func handler(f testing.TB) http.Handler {
	store, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "basket.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { store.Close() })
	if _, err := app.NewPrices(store).Change(context.Background(), app.ChangePrice{ProductID: "p1", Name: "Widget", Price: 1999, Version: 1}); err != nil {
		f.Fatal(err)
	}
	mux := http.NewServeMux()
	httpapi.Register(mux, app.New(store, store), slog.New(slog.DiscardHandler), idemtest.Guard(f))
	return resttest.Handler(mux, auth.Claims{Subject: "s", UserName: "alice"})
}

func FuzzReplaceBasket(f *testing.F) {
	resttest.FuzzBody(f, handler(f), "POST", "/basket",
		`{"userName":"alice","items":[{"productId":"p1","quantity":3,"color":"red"}]}`,
		`{"items":[{"productId":"p1","quantity":1,"price":0.01,"productName":"x"}]}`,
		`{"userName":"alice","items":[{"productId":"nope","quantity":1}]}`,
		`{"userName":"bob","items":[]}`,
		`{"userName":"alice","items":[{"productId":"p1","quantity":1e9}]}`,
		`{"userName":"alice","items":[{"productId":"p1","quantity":1},{"productId":"p1","quantity":2}]}`,
		`{"items":null}`, `{"items":[null]}`, `{"items":{}}`, `"x"`, ``,
		// Hostile: null body, keys in another case, repeated keys, invalid UTF-8, deep nesting.
		`null`, `{"ITEMS":[]}`, `{"Items":[{"ProductId":"p1","Quantity":1}]}`, `{"items":[],"items":[{"productId":"p1","quantity":1}]}`,
		"{\"items\":[{\"productId\":\"p1\",\"quantity\":1,\"color\":\"\xff\"}]}", `{"items":[{"productId":"p1","quantity":"1"}]}`,
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
		`{"items":[{"productId":"p1","quantity":1,"price":null,"productName":null}]}`,
	)
}

func FuzzCheckout(f *testing.F) {
	h := handler(f)
	resttest.FuzzBody(f, h, "POST", "/basket/checkout",
		`{"userName":"alice","firstName":"A","lastName":"L","email":"a@b.c","address":"x","paymentMethod":"invoice"}`,
		`{"firstName":"A","lastName":"L","email":"a@b.c","address":"x","paymentMethod":"invoice","cardInfo":"4111"}`,
		`{"firstName":"A","lastName":"L","email":"@","address":"x","paymentMethod":"invoice"}`,
		`{"userName":"bob"}`, `{}`, `{"email":["x"]}`,
		`null`, `{"FIRSTNAME":"A"}`, `{"firstName":"A","firstName":"B"}`, `{"firstName":null}`, `{"cardInfo":null}`,
		"{\"firstName\":\"\u202eA\",\"lastName\":\"L\",\"email\":\"a@b.c\",\"address\":\"x\",\"paymentMethod\":\"invoice\"}",
	)
}
