// Package httpapi is the ordering service's inbound HTTP adapter: the seed's
// /order routes.
package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/eventshop/eventshop/internal/auth"
	"github.com/eventshop/eventshop/internal/ordering/app"
	"github.com/eventshop/eventshop/internal/page"
	"github.com/eventshop/eventshop/internal/rest"
)

type handler struct {
	app *app.Orders
	log *slog.Logger
}

// Register adds the ordering service's routes to mux.
func Register(mux *http.ServeMux, a *app.Orders, log *slog.Logger, idem rest.Idempotency) {
	rest.Register(mux, (&handler{app: a, log: log}).routes(), log, idem)
}

// Routes lists the ordering service's routes; the AWS stack gives each an API Gateway route.
func Routes() []rest.Route { return (&handler{}).routes() }

func (h *handler) routes() []rest.Route {
	return []rest.Route{
		{Method: "GET", Path: "/order", Access: auth.Admin, Handler: h.list},
		{Method: "GET", Path: "/order/{userName}", Access: auth.Authenticated, Handler: h.listByUser},
		{Method: "GET", Path: "/order/{userName}/{orderId}", Access: auth.Authenticated, Handler: h.get},
		{Method: "POST", Path: "/order/{userName}/{orderId}/cancel", Access: auth.Authenticated, Handler: h.cancel},
		{Method: "POST", Path: "/order/{userName}/{orderId}/ship", Access: auth.Admin, Handler: h.ship},
	}
}

// cancel cancels an order for its owner or an admin: 202, as releasing its
// stock and refunding its payment follow by events; 409 once it is shipped
// or cancelled.
func (h *handler) cancel(w http.ResponseWriter, r *http.Request) error {
	userName := r.PathValue("userName")
	if err := auth.CanManage(r.Context(), userName); err != nil {
		return err
	}
	o, err := h.app.Cancel(r.Context(), userName, r.PathValue("orderId"))
	if err != nil {
		return err
	}
	return rest.JSON(w, http.StatusAccepted, orderOf(o))
}

// ship marks a paid order shipped (admins); 409 unless it is PAID.
func (h *handler) ship(w http.ResponseWriter, r *http.Request) error {
	o, err := h.app.Ship(r.Context(), r.PathValue("userName"), r.PathValue("orderId"))
	if err != nil {
		return err
	}
	return rest.JSON(w, http.StatusOK, orderOf(o))
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) error {
	req, err := page.FromQuery(r.URL.Query())
	if err != nil {
		return err
	}
	res, err := h.app.List(r.Context(), r.URL.Query().Get("status"), req)
	if err != nil {
		return err
	}
	return rest.JSON(w, http.StatusOK, page.Map(res, orderOf))
}

func (h *handler) listByUser(w http.ResponseWriter, r *http.Request) error {
	req, err := page.FromQuery(r.URL.Query())
	if err != nil {
		return err
	}
	userName := r.PathValue("userName")
	if err := auth.CanRead(r.Context(), userName); err != nil {
		return err
	}
	res, err := h.app.ListByUser(r.Context(), userName, req)
	if err != nil {
		return err
	}
	return rest.JSON(w, http.StatusOK, page.Map(res, orderOf))
}

// get reads one order; with "Prefer: wait=<seconds>" (RFC 7240), an order
// not placed yet is waited for (app.Orders.Await), as a client that has just
// checked out wants, instead of polling.
func (h *handler) get(w http.ResponseWriter, r *http.Request) error {
	userName := r.PathValue("userName")
	if err := auth.CanRead(r.Context(), userName); err != nil {
		return err
	}
	o, err := h.app.Await(r.Context(), userName, r.PathValue("orderId"), rest.PreferredWait(r))
	if err != nil {
		return err
	}
	return rest.JSON(w, http.StatusOK, orderOf(o))
}
