// Package httpapi is the basket service's inbound HTTP adapter: the seed's
// /basket routes.
package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/eventshop/eventshop/internal/auth"
	"github.com/eventshop/eventshop/internal/basket"
	"github.com/eventshop/eventshop/internal/basket/app"
	"github.com/eventshop/eventshop/internal/idempotency"
	"github.com/eventshop/eventshop/internal/page"
	"github.com/eventshop/eventshop/internal/rest"
	"github.com/eventshop/eventshop/internal/validation"
)

type handler struct {
	app *app.Baskets
	log *slog.Logger
}

// Register adds the basket service's routes to mux.
func Register(mux *http.ServeMux, a *app.Baskets, log *slog.Logger, idem rest.Idempotency) {
	rest.Register(mux, (&handler{app: a, log: log}).routes(), log, idem)
}

// Routes lists the basket service's routes; the AWS stack gives each an API Gateway route.
func Routes() []rest.Route { return (&handler{}).routes() }

func (h *handler) routes() []rest.Route {
	return []rest.Route{
		{Method: "GET", Path: "/basket", Access: auth.Admin, Handler: h.list},
		{Method: "POST", Path: "/basket", Access: auth.Authenticated, Handler: h.replace},
		{Method: "POST", Path: "/basket/checkout", Access: auth.Authenticated, Idempotent: true, Handler: h.checkout},
		{Method: "GET", Path: "/basket/{userName}", Access: auth.Authenticated, Handler: h.get},
		{Method: "DELETE", Path: "/basket/{userName}", Access: auth.Authenticated, Handler: h.delete},
	}
}

type basketRequest struct {
	UserName string        `json:"userName"`
	Items    []itemRequest `json:"items"`
}

// itemRequest accepts the price and productName that seed clients send, and
// ignores them: prices and names come from the service's own price view.
type itemRequest struct {
	ProductID   string         `json:"productId"`
	Quantity    int            `json:"quantity"`
	Color       string         `json:"color"`
	Price       jsontext.Value `json:"price"`
	ProductName jsontext.Value `json:"productName"`
}

type checkoutRequest struct {
	UserName      string         `json:"userName"`
	FirstName     string         `json:"firstName"`
	LastName      string         `json:"lastName"`
	Email         string         `json:"email"`
	Address       string         `json:"address"`
	PaymentMethod string         `json:"paymentMethod"`
	CardInfo      jsontext.Value `json:"cardInfo"`
}

type checkoutResponse struct {
	OrderID string `json:"orderId"`
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) error {
	req, err := page.FromQuery(r.URL.Query())
	if err != nil {
		return err
	}
	res, err := h.app.List(r.Context(), req)
	if err != nil {
		return err
	}
	return rest.JSON(w, http.StatusOK, page.Map(res, basketOf))
}

func (h *handler) get(w http.ResponseWriter, r *http.Request) error {
	userName := r.PathValue("userName")
	if err := auth.CanRead(r.Context(), userName); err != nil {
		return err
	}
	b, err := h.app.Get(r.Context(), userName)
	if err != nil {
		return err
	}
	return rest.JSON(w, http.StatusOK, basketOf(b))
}

func (h *handler) replace(w http.ResponseWriter, r *http.Request) error {
	var body basketRequest
	if err := rest.Decode(w, r, &body); err != nil {
		return err
	}
	userName, err := auth.OwnUserName(r.Context(), body.UserName)
	if err != nil {
		return err
	}
	items := make([]basket.Item, len(body.Items))
	for i, it := range body.Items {
		items[i] = basket.Item{ProductID: it.ProductID, Quantity: it.Quantity, Color: it.Color}
	}
	b, err := h.app.Replace(r.Context(), userName, items)
	if err != nil {
		return err
	}
	return rest.JSON(w, http.StatusOK, basketOf(b))
}

func (h *handler) delete(w http.ResponseWriter, r *http.Request) error {
	userName := r.PathValue("userName")
	if err := auth.CanWrite(r.Context(), userName); err != nil {
		return err
	}
	if err := h.app.Delete(r.Context(), userName); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) checkout(w http.ResponseWriter, r *http.Request) error {
	var body checkoutRequest
	if err := rest.Decode(w, r, &body); err != nil {
		return err
	}
	if body.CardInfo != nil {
		return validation.Field("cardInfo", "card data is not accepted; send a paymentMethod instead")
	}
	userName, err := auth.OwnUserName(r.Context(), body.UserName)
	if err != nil {
		return err
	}
	id, err := h.app.Checkout(r.Context(), userName, app.Buyer{
		FirstName:     body.FirstName,
		LastName:      body.LastName,
		Email:         body.Email,
		Address:       body.Address,
		PaymentMethod: body.PaymentMethod,
	}, r.Header.Get(idempotency.Header))
	if err != nil {
		return err
	}
	return rest.JSON(w, http.StatusAccepted, checkoutResponse{OrderID: id})
}
