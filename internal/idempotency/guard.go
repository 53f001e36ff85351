package idempotency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/eventshop/eventshop/internal/auth"
	"github.com/eventshop/eventshop/internal/rest"
)

// Guard runs the routes that honour an Idempotency-Key.
type Guard struct {
	store Store
	log   *slog.Logger
	now   func() time.Time
}

var _ rest.Idempotency = (*Guard)(nil)

// NewGuard returns a guard keeping its records in store.
func NewGuard(store Store, log *slog.Logger) *Guard {
	return &Guard{store: store, log: log, now: time.Now}
}

// Wrap returns h made idempotent under the Idempotency-Key header. A request
// without the header runs as it is. With it, the first request under a key
// runs and its response (unless a 5xx, which leaves the key free for a retry)
// is kept; a repeat with the same body gets that response again, marked with
// Idempotent-Replayed: true.
func (g *Guard) Wrap(h rest.HandlerFunc) rest.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		keys := r.Header.Values(Header)
		if len(keys) == 0 {
			return h(w, r)
		}
		if len(keys) > 1 || !ValidKey(keys[0]) {
			return ErrBadKey
		}
		caller, err := auth.Caller(r.Context())
		if err != nil {
			return err
		}
		body, err := rest.ReadBody(w, r)
		if err != nil {
			return err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.Sum256(body)
		now := g.now()
		rec := Record{
			Scope:       caller.UserName + " " + r.Pattern,
			Key:         keys[0],
			Fingerprint: hex.EncodeToString(sum[:]),
			Started:     now,
			Expires:     now.Add(Retention),
		}
		prev, err := g.store.Claim(r.Context(), rec, now.Add(-Lease))
		switch {
		case err == nil:
		case errors.Is(err, ErrExists) && prev.Fingerprint != rec.Fingerprint:
			return ErrMismatch
		case errors.Is(err, ErrExists) && !prev.Done:
			return ErrInProgress
		case errors.Is(err, ErrExists):
			replay(w, prev)
			return nil
		default:
			return err
		}
		return g.run(w, r, h, rec)
	}
}

// run runs the request that claimed rec and keeps its response.
func (g *Guard) run(w http.ResponseWriter, r *http.Request, h rest.HandlerFunc, rec Record) error {
	ctx := r.Context()
	released := false
	defer func() {
		if p := recover(); p != nil {
			if !released {
				g.release(r, rec)
			}
			panic(p)
		}
	}()
	res := &captured{header: http.Header{}, status: http.StatusOK}
	if err := h(res, r); err != nil {
		rest.Fail(res, r, g.log, err)
	}
	if res.status >= 500 {
		released = true
		g.release(r, rec)
	} else {
		rec.Done, rec.Status, rec.Body = true, res.status, res.body.Bytes()
		rec.ContentType, rec.Location = res.header.Get("Content-Type"), res.header.Get("Location")
		if err := g.store.Complete(ctx, rec); err != nil {
			// The work is done and its answer goes out; only a retry's replay is lost.
			g.log.ErrorContext(ctx, "keep idempotent response", "key", rec.Key, "err", err)
		}
	}
	for k, v := range res.header {
		w.Header()[k] = v
	}
	w.WriteHeader(res.status)
	_, _ = w.Write(res.body.Bytes())
	return nil
}

func (g *Guard) release(r *http.Request, rec Record) {
	if err := g.store.Release(context.WithoutCancel(r.Context()), rec); err != nil {
		g.log.ErrorContext(r.Context(), "release idempotency key", "key", rec.Key, "err", err)
	}
}

func replay(w http.ResponseWriter, rec Record) {
	if rec.ContentType != "" {
		w.Header().Set("Content-Type", rec.ContentType)
	}
	if rec.Location != "" {
		w.Header().Set("Location", rec.Location)
	}
	w.Header().Set(ReplayedHeader, "true")
	w.Header().Set("Content-Length", strconv.Itoa(len(rec.Body)))
	w.WriteHeader(rec.Status)
	_, _ = w.Write(rec.Body)
}

// captured is a response held back until it is kept.
type captured struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (c *captured) Header() http.Header { return c.header }

func (c *captured) WriteHeader(status int) {
	if !c.wrote {
		c.status, c.wrote = status, true
	}
}

func (c *captured) Write(b []byte) (int, error) {
	c.wrote = true
	return c.body.Write(b)
}
