// Package httpapi is the inventory service's inbound HTTP adapter: stock per
// product, public to read (a storefront shows "in stock"), admin to set.
package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/eventshop/eventshop/internal/auth"
	"github.com/eventshop/eventshop/internal/inventory"
	"github.com/eventshop/eventshop/internal/inventory/app"
	"github.com/eventshop/eventshop/internal/rest"
	"github.com/eventshop/eventshop/internal/validation"
)

type handler struct {
	app *app.Inventory
	log *slog.Logger
}

// Register adds the inventory's routes to mux.
func Register(mux *http.ServeMux, a *app.Inventory, log *slog.Logger) {
	rest.Register(mux, (&handler{app: a, log: log}).routes(), log, nil)
}

// Routes lists the inventory's routes; the AWS stack gives each an API Gateway route.
func Routes() []rest.Route { return (&handler{}).routes() }

// The admin's view has a route of its own: API Gateway's authorizer guards a
// route or not, so the public route can never know an admin.
func (h *handler) routes() []rest.Route {
	return []rest.Route{
		{Method: "GET", Path: "/inventory/{productId}", Access: auth.Public, Handler: h.get},
		{Method: "GET", Path: "/inventory/{productId}/admin", Access: auth.Admin, Handler: h.getAdmin},
		{Method: "PUT", Path: "/inventory/{productId}", Access: auth.Admin, Handler: h.set},
		{Method: "POST", Path: "/inventory/{productId}/adjustments", Access: auth.Admin, Handler: h.adjust},
	}
}

// PublicStock is what anyone may read of a product's stock.
type PublicStock struct {
	ProductID string `json:"productId"`
	Tracked   bool   `json:"tracked"`
	Available int    `json:"available"`
}

// Stock is the admin's view.
type Stock struct {
	PublicStock
	Reserved int   `json:"reserved"`
	Deleted  bool  `json:"deleted"`
	Version  int64 `json:"version"`
}

func view(st inventory.Stock) Stock {
	return Stock{PublicStock: PublicStock{ProductID: st.ProductID, Tracked: st.Tracked, Available: st.Available}, Reserved: st.Reserved, Deleted: st.Deleted, Version: st.Version}
}

type setRequest struct {
	Available *int  `json:"available"`
	Version   int64 `json:"version"`
}

type adjustRequest struct {
	Delta  *int   `json:"delta"`
	Reason string `json:"reason"`
}

// adjust answers 200 with the stock after the adjustment: the request is
// not a resource of its own (the reason goes to the log).
func (h *handler) adjust(w http.ResponseWriter, r *http.Request) error {
	var body adjustRequest
	if err := rest.Decode(w, r, &body); err != nil {
		return err
	}
	if body.Delta == nil {
		return validation.Field("delta", "is required")
	}
	c := app.AdjustStock{ProductID: r.PathValue("productId"), Delta: *body.Delta, Reason: body.Reason}
	st, err := h.app.Adjust(r.Context(), c)
	if err != nil {
		return err
	}
	by, _ := auth.Caller(r.Context()) // an admin route: the caller is known
	h.log.InfoContext(r.Context(), "stock adjusted", "productId", c.ProductID, "delta", c.Delta, "reason", c.Reason,
		"available", st.Available, "version", st.Version, "by", by.UserName)
	return rest.JSON(w, http.StatusOK, view(st))
}

func (h *handler) get(w http.ResponseWriter, r *http.Request) error {
	st, err := h.app.Get(r.Context(), r.PathValue("productId"))
	if err != nil {
		return err
	}
	return rest.JSON(w, http.StatusOK, view(st).PublicStock)
}

func (h *handler) getAdmin(w http.ResponseWriter, r *http.Request) error {
	st, err := h.app.Get(r.Context(), r.PathValue("productId"))
	if err != nil {
		return err
	}
	return rest.JSON(w, http.StatusOK, view(st))
}

func (h *handler) set(w http.ResponseWriter, r *http.Request) error {
	var body setRequest
	if err := rest.Decode(w, r, &body); err != nil {
		return err
	}
	if body.Available == nil {
		return validation.Field("available", "is required")
	}
	st, err := h.app.SetAvailable(r.Context(), r.PathValue("productId"), *body.Available, body.Version)
	if err != nil {
		return err
	}
	return rest.JSON(w, http.StatusOK, view(st))
}
