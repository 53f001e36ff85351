// Package httpapi is the local bus's admin API: its queues, their dead
// letters listed, read, redriven and deleted, and archived events replayed
// to them, while the shop runs. It exists
// only in the local binary; on AWS the queues are SQS's and its console and
// CLI do this.
package httpapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/eventshop/eventshop/internal/auth"
	"github.com/eventshop/eventshop/internal/localbus"
	"github.com/eventshop/eventshop/internal/rest"
	"github.com/eventshop/eventshop/internal/validation"
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
		{Method: "POST", Path: "/admin/queues/{queue}/replays", Access: auth.Admin, Handler: h.replay},
	}
}

// Replayed answers a replay.
type Replayed struct {
	Sent     int `json:"sent"`     // the events sent to the queue again
	Archived int `json:"archived"` // the events the archive holds in the range
}

// replay sends archived events to a queue again (localbus.Replay): from and
// to are RFC 3339 times in the query, detailType optional.
func (h *handler) replay(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	req := localbus.ReplayRequest{Queue: r.PathValue("queue"), DetailType: q.Get("detailType"), To: time.Now()}
	var err error
	if req.From, err = time.Parse(time.RFC3339Nano, q.Get("from")); err != nil {
		return validation.Field("from", "must be an RFC 3339 time")
	}
	if to := q.Get("to"); to != "" {
		if req.To, err = time.Parse(time.RFC3339Nano, to); err != nil {
			return validation.Field("to", "must be an RFC 3339 time")
		}
	}
	var out Replayed
	out.Sent, err = h.bus.Replay(r.Context(), req, func(_, of int) { out.Archived = of })
	if err != nil {
		return err
	}
	return rest.JSON(w, http.StatusOK, out)
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
