// Package httpapi is the catalog's inbound HTTP adapter: the seed's /product routes.
package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/eventshop/eventshop/internal/auth"
	"github.com/eventshop/eventshop/internal/catalog"
	"github.com/eventshop/eventshop/internal/catalog/app"
	"github.com/eventshop/eventshop/internal/money"
	"github.com/eventshop/eventshop/internal/page"
	"github.com/eventshop/eventshop/internal/rest"
	"github.com/eventshop/eventshop/internal/validation"
)

type handler struct {
	app *app.Catalog
	log *slog.Logger
}

// Register adds the catalog's routes to mux.
func Register(mux *http.ServeMux, a *app.Catalog, log *slog.Logger) {
	rest.Register(mux, (&handler{app: a, log: log}).routes(), log)
}

// Routes lists the catalog's routes; the AWS stack gives each an API Gateway route.
func Routes() []rest.Route { return (&handler{}).routes() }

func (h *handler) routes() []rest.Route {
	return []rest.Route{
		{Method: "GET", Path: "/product", Access: auth.Public, Handler: h.list},
		{Method: "POST", Path: "/product", Access: auth.Admin, Handler: h.create},
		{Method: "GET", Path: "/product/{id}", Access: auth.Public, Handler: h.get},
		{Method: "PUT", Path: "/product/{id}", Access: auth.Admin, Handler: h.update},
		{Method: "DELETE", Path: "/product/{id}", Access: auth.Admin, Handler: h.delete},
	}
}

// productRequest is the body of POST and PUT. id and version are optional: on
// PUT, id must match the path and version is the version the client read.
type productRequest struct {
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	ImageFile   string      `json:"imageFile"`
	Category    string      `json:"category"`
	Price       json.Number `json:"price"`
	Version     int64       `json:"version"`
}

func (r productRequest) details() (catalog.Details, error) {
	if r.Price == "" {
		return catalog.Details{}, validation.Field("price", "is required")
	}
	price, err := money.Parse(r.Price.String())
	if err != nil {
		return catalog.Details{}, validation.Field("price", "%v", err)
	}
	return catalog.Details{Name: r.Name, Description: r.Description, ImageFile: r.ImageFile, Category: r.Category, Price: price}, nil
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) {
	req, err := page.FromQuery(r.URL.Query())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	res, err := h.app.List(r.Context(), r.URL.Query().Get("category"), req)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rest.JSON(w, http.StatusOK, res)
}

func (h *handler) get(w http.ResponseWriter, r *http.Request) {
	p, err := h.app.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rest.JSON(w, http.StatusOK, p)
}

func (h *handler) create(w http.ResponseWriter, r *http.Request) {
	var body productRequest
	if err := rest.Decode(w, r, &body); err != nil {
		h.fail(w, r, err)
		return
	}
	d, err := body.details()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// A client-sent id is ignored: identities come from the server.
	p, err := h.app.Create(r.Context(), d)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/product/"+p.ID)
	rest.JSON(w, http.StatusCreated, p)
}

func (h *handler) update(w http.ResponseWriter, r *http.Request) {
	var body productRequest
	if err := rest.Decode(w, r, &body); err != nil {
		h.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	if body.ID != "" && body.ID != id {
		h.fail(w, r, validation.Field("id", "must match the id in the path"))
		return
	}
	d, err := body.details()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p, err := h.app.Update(r.Context(), id, d, body.Version)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rest.JSON(w, http.StatusOK, p)
}

func (h *handler) delete(w http.ResponseWriter, r *http.Request) {
	if err := h.app.Delete(r.Context(), r.PathValue("id")); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, catalog.ErrNotFound):
		rest.WriteProblem(w, http.StatusNotFound, catalog.ErrNotFound.Error())
	case errors.Is(err, catalog.ErrVersionConflict):
		rest.WriteProblem(w, http.StatusConflict, catalog.ErrVersionConflict.Error())
	default:
		rest.Fail(w, r, h.log, err)
	}
}
