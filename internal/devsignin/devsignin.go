// Package devsignin is the local shop's development sign-in: anyone who can
// reach it gets a token for any user name, admin or not. shop serve offers it
// only on a loopback address unless told otherwise, and says so in its log;
// no Lambda function links it (on AWS, Cognito signs users in).
package devsignin

import (
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/eventshop/eventshop/internal/auth"
	"github.com/eventshop/eventshop/internal/auth/localjwt"
	"github.com/eventshop/eventshop/internal/kind"
	"github.com/eventshop/eventshop/internal/rest"
	"github.com/eventshop/eventshop/internal/validation"
)

// TTL is how long a development token is valid.
const TTL = 8 * time.Hour

// Request names the user to sign in as.
type Request struct {
	UserName string `json:"userName"`
	Admin    bool   `json:"admin"`
}

// Response is the token, as `Authorization: Bearer <token>`.
type Response struct {
	Token     string    `json:"token"`
	UserName  string    `json:"userName"`
	Admin     bool      `json:"admin"`
	ExpiresAt time.Time `json:"expiresAt"`
}

type handler struct {
	keys  *localjwt.Keys
	hosts []string
}

// Register adds POST /dev/sign-in to mux. It answers only a request to a
// loopback name (localhost, 127.0.0.1, [::1]) or to one of hosts (the shop's
// own address, when it listens on another), and whose Origin, if it sends
// one, is the page's own: a page of another site that rebinds its name to
// this machine, or posts to it, gets 403.
func Register(mux *http.ServeMux, keys *localjwt.Keys, log *slog.Logger, hosts ...string) {
	rest.Register(mux, (&handler{keys: keys, hosts: hosts}).routes(), log, nil)
}

// ErrForeign refuses a sign-in asked of another name than the shop's, or from another site.
var ErrForeign = kind.New(kind.Forbidden, "the development sign-in answers only pages of the shop's own address")

// ownRequest reports whether r was sent to the shop's own name, by a page of
// that name (or by no page at all: a script sends no Origin).
func (h *handler) ownRequest(r *http.Request) bool {
	name := r.Host
	if host, _, err := net.SplitHostPort(r.Host); err == nil {
		name = host
	}
	name = strings.Trim(name, "[]")
	ip := net.ParseIP(name)
	if !strings.EqualFold(name, "localhost") && (ip == nil || !ip.IsLoopback()) && !slices.Contains(h.hosts, name) {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// Routes lists the sign-in route.
func Routes() []rest.Route { return (&handler{}).routes() }

func (h *handler) routes() []rest.Route {
	return []rest.Route{{Method: "POST", Path: "/dev/sign-in", Access: auth.Public, Handler: h.signIn}}
}

func (h *handler) signIn(w http.ResponseWriter, r *http.Request) error {
	if !h.ownRequest(r) {
		return ErrForeign
	}
	var req Request
	if err := rest.Decode(w, r, &req); err != nil {
		return err
	}
	if err := validation.UserName("userName", req.UserName); err != nil {
		return err
	}
	now := time.Now().UTC()
	tok, err := h.keys.Issue(req.UserName, req.Admin, TTL, now)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return rest.JSON(w, http.StatusOK, Response{Token: tok, UserName: req.UserName, Admin: req.Admin, ExpiresAt: now.Add(TTL).Truncate(time.Second)})
}
