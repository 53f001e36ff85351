// Package httpapi is the local bus's admin API: its queues, and their dead
// letters listed, read, redriven and deleted while the shop runs. It exists
// only in the local binary; on AWS the queues are SQS's and its console and
// CLI do this.
package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/eventshop/eventshop/internal/auth"
	"github.com/eventshop/eventshop/internal/localbus"
	"github.com/eventshop/eventshop/internal/rest"
)

type handler struct{ bus *localbus.Bus }

// Register adds the admin routes to mux.
func Register(mux *http.ServeMux, bus *localbus.Bus, log *slog.Logger) {
	rest.Register(mux, (&handler{bus: bus}).routes(), log, nil)
}

// Routes lists the admin routes.
func Routes() []rest.Route { return (&handler{}).routes() }

func (h *handler) routes() []rest.Route {
	return []rest.Route{
		{Method: "GET", Path: "/admin/queues", Access: auth.Admin, Handler: h.queues},
		{Method: "GET", Path: "/admin/queues/{queue}/dead-letters", Access: auth.Admin, Handler: h.list},
		{Method: "POST", Path: "/admin/queues/{queue}/dead-letters/redrive", Access: auth.Admin, Handler: h.redriveAll},
		{Method: "GET", Path: "/admin/queues/{queue}/dead-letters/{id}", Access: auth.Admin, Handler: h.get},
		{Method: "DELETE", Path: "/admin/queues/{queue}/dead-letters/{id}", Access: auth.Admin, Handler: h.delete},
		{Method: "POST", Path: "/admin/queues/{queue}/dead-letters/{id}/redrive", Access: auth.Admin, Handler: h.redriveOne},
	}
}

// Redriven answers a redrive.
type Redriven struct {
	Moved int `json:"moved"`
}

func (h *handler) queues(w http.ResponseWriter, r *http.Request) error {
	stats, err := h.bus.Stats(r.Context())
	if err != nil {
		return err
	}
	return rest.JSON(w, http.StatusOK, rest.Items[localbus.QueueStats]{Items: stats})
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) error {
	dl, err := h.bus.DeadLetters(r.Context(), r.PathValue("queue"))
	if err != nil {
		return err
	}
	return rest.JSON(w, http.StatusOK, rest.Items[localbus.DeadLetter]{Items: dl})
}

func (h *handler) get(w http.ResponseWriter, r *http.Request) error {
	dl, err := h.bus.DeadLetter(r.Context(), r.PathValue("queue"), r.PathValue("id"))
	if err != nil {
		return err
	}
	return rest.JSON(w, http.StatusOK, dl)
}

func (h *handler) delete(w http.ResponseWriter, r *http.Request) error {
	if err := h.bus.DeleteDeadLetter(r.Context(), r.PathValue("queue"), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) redriveAll(w http.ResponseWriter, r *http.Request) error {
	n, err := h.bus.Redrive(r.Context(), r.PathValue("queue"))
	if err != nil {
		return err
	}
	return rest.JSON(w, http.StatusOK, Redriven{Moved: n})
}

func (h *handler) redriveOne(w http.ResponseWriter, r *http.Request) error {
	n, err := h.bus.Redrive(r.Context(), r.PathValue("queue"), r.PathValue("id"))
	if err != nil {
		return err
	}
	return rest.JSON(w, http.StatusOK, Redriven{Moved: n})
}
