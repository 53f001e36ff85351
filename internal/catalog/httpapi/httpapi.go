// Package httpapi is the catalog's inbound HTTP adapter: the seed's /product routes.
package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/eventshop/eventshop/internal/auth"
	"github.com/eventshop/eventshop/internal/catalog"
	"github.com/eventshop/eventshop/internal/catalog/app"
	"github.com/eventshop/eventshop/internal/money"
	"github.com/eventshop/eventshop/internal/page"
	"github.com/eventshop/eventshop/internal/rest"
	"github.com/eventshop/eventshop/internal/validation"
)

type handler struct {
	app    *app.Catalog
	log    *slog.Logger
	bodies bodies
}

// Register adds the catalog's routes to mux.
func Register(mux *http.ServeMux, a *app.Catalog, log *slog.Logger, idem rest.Idempotency) {
	rest.Register(mux, (&handler{app: a, log: log}).routes(), log, idem)
}

// Routes lists the catalog's routes; the AWS stack gives each an API Gateway route.
func Routes() []rest.Route { return (&handler{}).routes() }

func (h *handler) routes() []rest.Route {
	return []rest.Route{
		{Method: "GET", Path: "/product", Access: auth.Public, Handler: h.list},
		{Method: "POST", Path: "/product", Access: auth.Admin, Idempotent: true, Handler: h.create},
		{Method: "GET", Path: "/product/{id}", Access: auth.Public, Handler: h.get},
		{Method: "PUT", Path: "/product/{id}", Access: auth.Admin, Handler: h.update},
		{Method: "DELETE", Path: "/product/{id}", Access: auth.Admin, Handler: h.delete},
	}
}

// productRequest is the body of POST and PUT. id and version are optional: on
// PUT, id must match the path and version is the version the client read.
type productRequest struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	Description string         `json:"description"`
	ImageFile   string         `json:"imageFile"`
	Category    string         `json:"category"`
	Price       jsontext.Value `json:"price"`
	Version     int64          `json:"version"`
}

func (r productRequest) details() (catalog.Details, error) {
	switch r.Price.Kind() {
	case 0:
		return catalog.Details{}, validation.Field("price", "is required")
	case '0':
	default:
		return catalog.Details{}, validation.Field("price", "must be a JSON number, such as 19.99")
	}
	price, err := money.Parse(string(r.Price))
	if err != nil {
		return catalog.Details{}, validation.Field("price", "%v", err)
	}
	return catalog.Details{Name: r.Name, Description: r.Description, ImageFile: r.ImageFile, Category: r.Category, Price: price}, nil
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) error {
	req, err := page.FromQuery(r.URL.Query())
	if err != nil {
		return err
	}
	res, err := h.app.List(r.Context(), r.URL.Query().Get("category"), req)
	if err != nil {
		return err
	}
	return rest.JSON(w, http.StatusOK, page.Map(res, productOf))
}

func (h *handler) get(w http.ResponseWriter, r *http.Request) error {
	p, err := h.app.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	b, err := h.bodies.of(p)
	if err != nil {
		return err
	}
	rest.Encoded(w, http.StatusOK, b)
	return nil
}

func (h *handler) create(w http.ResponseWriter, r *http.Request) error {
	var body productRequest
	if err := rest.Decode(w, r, &body); err != nil {
		return err
	}
	d, err := body.details()
	if err != nil {
		return err
	}
	// A client-sent id is ignored: identities come from the server.
	p, err := h.app.Create(r.Context(), d)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/product/"+p.ID)
	return rest.JSON(w, http.StatusCreated, productOf(p))
}

func (h *handler) update(w http.ResponseWriter, r *http.Request) error {
	var body productRequest
	if err := rest.Decode(w, r, &body); err != nil {
		return err
	}
	id := r.PathValue("id")
	if body.ID != "" && body.ID != id {
		return validation.Field("id", "must match the id in the path")
	}
	d, err := body.details()
	if err != nil {
		return err
	}
	p, err := h.app.Update(r.Context(), id, d, body.Version)
	if err != nil {
		return err
	}
	return rest.JSON(w, http.StatusOK, productOf(p))
}

func (h *handler) delete(w http.ResponseWriter, r *http.Request) error {
	if err := h.app.Delete(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
