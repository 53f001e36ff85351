// Package console is the local shop's console API, for admins: a live
// stream of the events the bus takes (server-sent events), each service's
// outbox, and whether the shop has work left. It exists only in the local binary.
package console

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/eventshop/eventshop/internal/auth"
	"github.com/eventshop/eventshop/internal/localbus"
	"github.com/eventshop/eventshop/internal/rest"
)

// Outbox is how far a service's outbox is behind.
type Outbox struct {
	Service string `json:"service"`
	Pending int    `json:"pending"`
	// LagSeconds is the age of the oldest event not yet relayed; 0 when none waits.
	LagSeconds float64 `json:"lagSeconds"`
}

// Deps are what the console reads.
type Deps struct {
	Bus      *localbus.Bus
	Outboxes func(context.Context) ([]Outbox, error)
	// Idle reports whether the shop has nothing left to do (every outbox
	// relayed, every queue empty, no event on its way).
	Idle func(context.Context) (bool, error)
	// Stopping is closed when the shop stops: event streams end then, so
	// that the server's shutdown need not wait for their clients to leave.
	Stopping <-chan struct{}
	// KeepAlive is how often an idle event stream sends a comment, so that
	// proxies keep it open; default 15s.
	KeepAlive time.Duration
}

type handler struct {
	Deps
	log *slog.Logger
}

// Register adds the console's routes to mux.
func Register(mux *http.ServeMux, d Deps, log *slog.Logger) {
	if d.KeepAlive == 0 {
		d.KeepAlive = 15 * time.Second
	}
	rest.Register(mux, (&handler{Deps: d, log: log}).routes(), log, nil)
}

// Routes lists the console's routes.
func Routes() []rest.Route { return (&handler{}).routes() }

func (h *handler) routes() []rest.Route {
	return []rest.Route{
		{Method: "GET", Path: "/console/api/events", Access: auth.Admin, Handler: h.events},
		{Method: "GET", Path: "/console/api/outboxes", Access: auth.Admin, Handler: h.outboxes},
		{Method: "GET", Path: "/console/api/idle", Access: auth.Admin, Handler: h.idle},
	}
}

// Idle is whether the shop has work left: what an operator checks before
// stopping it for an upgrade, and a test before it asserts that something
// did not happen.
type Idle struct {
	Idle bool `json:"idle"`
}

func (h *handler) idle(w http.ResponseWriter, r *http.Request) error {
	idle, err := h.Idle(r.Context())
	if err != nil {
		return err
	}
	return rest.JSON(w, http.StatusOK, Idle{Idle: idle})
}

func (h *handler) outboxes(w http.ResponseWriter, r *http.Request) error {
	obs, err := h.Outboxes(r.Context())
	if err != nil {
		return err
	}
	return rest.JSON(w, http.StatusOK, rest.Items[Outbox]{Items: obs})
}

// events streams the bus's latest events, then each one it takes, as
// server-sent events ("event: bus", the data a localbus.Published), until
// the client leaves or the shop stops.
func (h *handler) events(w http.ResponseWriter, r *http.Request) error {
	rc := http.NewResponseController(w)
	// The stream outlives the server's write timeout, which is for answers.
	if err := rc.SetWriteDeadline(time.Time{}); err != nil {
		return fmt.Errorf("event stream: %w", err)
	}
	recent, live, stop := h.Bus.Watch()
	defer stop()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	send := func(p localbus.Published) error {
		b, err := json.Marshal(p)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "event: bus\ndata: %s\n\n", b); err != nil {
			return err
		}
		return nil
	}
	for _, p := range recent {
		if send(p) != nil {
			return nil // the client left: nothing to answer
		}
	}
	if rc.Flush() != nil {
		return nil
	}
	tick := time.NewTicker(h.KeepAlive)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-h.Stopping:
			return nil
		case p := <-live:
			if send(p) != nil || rc.Flush() != nil {
				return nil
			}
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil || rc.Flush() != nil {
				return nil
			}
		}
	}
}
