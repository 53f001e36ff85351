package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/localapp"
	"github.com/eventshop/eventshop/internal/localbus"
	bushttp "github.com/eventshop/eventshop/internal/localbus/httpapi"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

func replayUsage() string {
	var rules []string
	for _, r := range eventbus.Rules() {
		rules = append(rules, "  "+r.Name+"  → "+r.Queue)
	}
	return `
Sends the events the bus archived between --from and --to (RFC 3339 times; --to
defaults to now) again to one queue: the queue of --rule, or --queue. Only events
the queue's rule matches are sent (and only of --detail-type, if given). Consumers
are idempotent: what they applied stays as it is, what was lost comes back. While
the shop runs, the command goes through its admin API; when it is stopped, to its
bus directly, showing its progress.

rules and their queues:
` + strings.Join(rules, "\n") + "\n"
}

func replay(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("replay", "shop replay [--data DIR] --from TIME [--to TIME] (--rule NAME | --queue NAME) [--detail-type TYPE]", replayUsage())
	data := fs.String("data", "./data", "data directory of the shop")
	from := fs.String("from", "", "the first time to replay, RFC 3339 (2026-12-04T10:00:00Z)")
	to := fs.String("to", "", "the time to replay up to, RFC 3339; now if not given")
	rule := fs.String("rule", "", "the rule whose queue gets the events")
	queue := fs.String("queue", "", "the queue that gets the events")
	detailType := fs.String("detail-type", "", "only events of this detail-type")
	if err := fs.parse(args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fs.fail("takes no arguments, only flags")
	}
	req := localbus.ReplayRequest{Queue: *queue, DetailType: *detailType, To: time.Now()}
	switch {
	case (*rule == "") == (*queue == ""):
		return fs.fail("give --rule or --queue, one of them")
	case *rule != "":
		for _, r := range eventbus.Rules() {
			if r.Name == *rule {
				req.Queue = r.Queue
			}
		}
		if req.Queue == "" {
			return fs.fail("there is no rule %q", *rule)
		}
	}
	var err error
	if req.From, err = time.Parse(time.RFC3339Nano, *from); err != nil {
		return fs.fail("--from %q is not an RFC 3339 time", *from)
	}
	if *to != "" {
		if req.To, err = time.Parse(time.RFC3339Nano, *to); err != nil {
			return fs.fail("--to %q is not an RFC 3339 time", *to)
		}
	}
	if !req.From.Before(req.To) {
		return fs.fail("--from must be before --to")
	}
	ctx := context.Background()
	bus, closeBus, err := localapp.OpenBus(ctx, *data, slog.New(slog.DiscardHandler))
	switch {
	case err == nil:
		defer closeBus()
		sent, err := bus.Replay(ctx, req, func(sent, of int) {
			fmt.Fprintf(stderr, "\rreplayed %d of the %d events archived in the range", sent, of)
		})
		fmt.Fprintln(stderr)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Sent %d events to %s again.\n", sent, req.Queue)
		return nil
	case errors.Is(err, localapp.ErrNoShop):
		return noShop(*data)
	case !errors.Is(err, localapp.ErrInUse):
		return err
	}
	client, err := runningShop(*data)
	if err != nil {
		return err
	}
	q := url.Values{"from": {req.From.Format(time.RFC3339Nano)}, "to": {req.To.Format(time.RFC3339Nano)}}
	if req.DetailType != "" {
		q.Set("detailType", req.DetailType)
	}
	var out bushttp.Replayed
	if err := client.call(ctx, "POST", "/admin/queues/"+url.PathEscape(req.Queue)+"/replays?"+q.Encode(), &out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Sent %d events to %s again (of the %d archived in the range).\n", out.Sent, req.Queue, out.Archived)
	return nil
}
