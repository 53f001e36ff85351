// Package httpapi is the local shop's telemetry over HTTP: the console's
// trace API (the most recent traces, for admins) and the metrics in
// Prometheus text format (for any scraper). It exists only in the local
// binary; on AWS traces go to a collector and metrics to CloudWatch.
package httpapi

import (
	"log/slog"
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel/trace"

	"github.com/eventshop/eventshop/internal/auth"
	"github.com/eventshop/eventshop/internal/kind"
	"github.com/eventshop/eventshop/internal/rest"
	"github.com/eventshop/eventshop/internal/telemetry"
	"github.com/eventshop/eventshop/internal/validation"
)

// DefaultLimit is how many traces a list holds when the query names none.
const DefaultLimit = 50

type handler struct {
	recent  *telemetry.Recent
	metrics http.Handler
}

// Register adds the trace routes and GET /metrics, served by metrics, to mux.
func Register(mux *http.ServeMux, recent *telemetry.Recent, metrics http.Handler, log *slog.Logger) {
	rest.Register(mux, (&handler{recent: recent, metrics: metrics}).routes(), log, nil)
}

// Routes lists the telemetry routes.
func Routes() []rest.Route { return (&handler{}).routes() }

func (h *handler) routes() []rest.Route {
	return []rest.Route{
		{Method: "GET", Path: "/console/api/traces", Access: auth.Admin, Handler: h.list},
		{Method: "GET", Path: "/console/api/traces/{traceId}", Access: auth.Admin, Handler: h.get},
		// Public, as scrapers expect; it says how busy the shop is, not what it holds.
		{Method: "GET", Path: "/metrics", Access: auth.Public, Handler: h.serveMetrics},
	}
}

func (h *handler) serveMetrics(w http.ResponseWriter, r *http.Request) error {
	h.metrics.ServeHTTP(w, r)
	return nil
}

var errNoTrace = kind.New(kind.NotFound, "trace not found (only the most recent traces are kept)")

func (h *handler) list(w http.ResponseWriter, r *http.Request) error {
	limit := DefaultLimit
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > telemetry.DefaultTraces {
			return validation.Field("limit", "must be an integer from 1 to %d", telemetry.DefaultTraces)
		}
		limit = n
	}
	return rest.JSON(w, http.StatusOK, rest.Items[telemetry.Summary]{Items: h.recent.List(limit)})
}

func (h *handler) get(w http.ResponseWriter, r *http.Request) error {
	id, err := trace.TraceIDFromHex(r.PathValue("traceId"))
	if err != nil {
		return validation.Field("traceId", "must be 32 lowercase hexadecimal digits, not all zero")
	}
	t, ok := h.recent.Get(id)
	if !ok {
		return errNoTrace
	}
	return rest.JSON(w, http.StatusOK, t)
}
