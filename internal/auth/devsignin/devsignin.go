// Package devsignin is the local shop's development sign-in: anyone who can
// reach it gets a token for any user name, admin or not. shop serve offers it
// only on a loopback address unless told otherwise, and says so in its log;
// no Lambda function links it (on AWS, Cognito signs users in).
package devsignin

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/eventshop/eventshop/internal/auth"
	"github.com/eventshop/eventshop/internal/auth/localjwt"
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

type handler struct{ keys *localjwt.Keys }

// Register adds POST /dev/sign-in to mux.
func Register(mux *http.ServeMux, keys *localjwt.Keys, log *slog.Logger) {
	rest.Register(mux, (&handler{keys: keys}).routes(), log, nil)
}

// Routes lists the sign-in route.
func Routes() []rest.Route { return (&handler{}).routes() }

func (h *handler) routes() []rest.Route {
	return []rest.Route{{Method: "POST", Path: "/dev/sign-in", Access: auth.Public, Handler: h.signIn}}
}

func (h *handler) signIn(w http.ResponseWriter, r *http.Request) error {
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
