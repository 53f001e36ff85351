package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/eventshop/eventshop/internal/auth/localjwt"
	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/localapp"
	"github.com/eventshop/eventshop/internal/localbus"
	bushttp "github.com/eventshop/eventshop/internal/localbus/httpapi"
	"github.com/eventshop/eventshop/internal/rest"
)

// deadLetters is what the dlq command does to a bus: *localbus.Bus when the
// shop is stopped, the shop's admin API when it runs.
type deadLetters interface {
	Stats(ctx context.Context) ([]localbus.QueueStats, error)
	DeadLetters(ctx context.Context, queue string) ([]localbus.DeadLetter, error)
	DeadLetter(ctx context.Context, queue, id string) (localbus.DeadLetter, error)
	DeleteDeadLetter(ctx context.Context, queue, id string) error
	Redrive(ctx context.Context, queue string, ids ...string) (int, error)
}

var _ deadLetters = (*localbus.Bus)(nil)

func dlqUsage() string {
	var queues []string
	for _, r := range eventbus.Rules() {
		queues = append(queues, "  "+r.Queue+"  (dead letters in "+r.DeadLetterQueue()+")")
	}
	return `
subcommands:
  queues              count each queue's messages and dead letters
  list QUEUE          list QUEUE's dead letters as JSON lines, oldest first
  show QUEUE ID       print one dead letter
  redrive QUEUE [ID]  move QUEUE's dead letters (or only ID) back to QUEUE
  delete QUEUE ID     delete one dead letter for good

queues:
` + strings.Join(queues, "\n") + `

A dead letter that is not JSON is shown as {"id":...,"raw":"..."}. While the shop runs,
the command goes through its admin API; when it is stopped, to its bus directly.
`
}

// dlqArgs is how many arguments each subcommand takes: at least, at most.
var dlqArgs = map[string][2]int{"queues": {0, 0}, "list": {1, 1}, "show": {2, 2}, "redrive": {1, 2}, "delete": {2, 2}}

func dlq(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("dlq", "shop dlq [--data DIR] queues|list|show|redrive|delete [QUEUE [ID]]", dlqUsage())
	data := fs.String("data", "./data", "data directory of the shop")
	if err := fs.parse(args, stdout); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fs.fail("a subcommand is required")
	}
	sub, rest := fs.Arg(0), fs.Args()[1:]
	n, ok := dlqArgs[sub]
	if !ok {
		return fs.fail("there is no subcommand %q", sub)
	}
	if len(rest) < n[0] || len(rest) > n[1] {
		return fs.fail("%s takes %s", sub, map[string]string{"queues": "no arguments", "list": "a QUEUE", "show": "a QUEUE and an ID", "redrive": "a QUEUE and, optionally, an ID", "delete": "a QUEUE and an ID"}[sub])
	}
	ctx := context.Background()
	bus, done, err := openDeadLetters(ctx, *data)
	if err != nil {
		return err
	}
	defer done()

	switch sub {
	case "queues":
		stats, err := bus.Stats(ctx)
		if err != nil {
			return err
		}
		for _, s := range stats {
			fmt.Fprintf(stdout, "%-24s %6d messages (%d in flight)  %6d dead letters (%s)\n", s.Queue, s.Messages, s.InFlight, s.DeadLetters, s.DeadLetterQueue)
		}
	case "list":
		letters, err := bus.DeadLetters(ctx, rest[0])
		if err != nil {
			return err
		}
		if len(letters) == 0 {
			fmt.Fprintf(stderr, "The dead-letter queue of %s is empty.\n", rest[0])
		}
		enc := json.NewEncoder(stdout)
		for _, l := range letters {
			if err := enc.Encode(l); err != nil {
				return err
			}
		}
	case "show":
		l, err := bus.DeadLetter(ctx, rest[0], rest[1])
		if err != nil {
			return err
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(l)
	case "redrive":
		n, err := bus.Redrive(ctx, rest[0], rest[1:]...)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Moved %d dead letters back to %s.\n", n, rest[0])
	case "delete":
		if err := bus.DeleteDeadLetter(ctx, rest[0], rest[1]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Deleted %s from the dead-letter queue of %s.\n", rest[1], rest[0])
	}
	return nil
}

// openDeadLetters reaches the bus of the shop in dir: directly when no shop
// runs on it, through the running shop's admin API otherwise. It creates
// nothing in a dir that holds no shop.
func openDeadLetters(ctx context.Context, dir string) (deadLetters, func() error, error) {
	bus, closeBus, err := localapp.OpenBus(ctx, dir, slog.New(slog.DiscardHandler))
	switch {
	case err == nil:
		return bus, closeBus, nil
	case errors.Is(err, localapp.ErrNoShop):
		return nil, nil, noShop(dir)
	case !errors.Is(err, localapp.ErrInUse):
		return nil, nil, err
	}
	client, err := runningShop(dir)
	if err != nil {
		return nil, nil, err
	}
	return client, func() error { return nil }, nil
}

// runningShop is the admin API of the shop running on dir.
func runningShop(dir string) (*adminClient, error) {
	addr, err := os.ReadFile(filepath.Join(dir, AddressFile))
	if err != nil {
		return nil, fmt.Errorf("a shop runs on %s but its address is unknown (%s is missing): %w", dir, AddressFile, err)
	}
	keys, err := localjwt.Load(dir)
	if err != nil {
		return nil, err
	}
	tok, err := keys.Issue("shop-cli", true, 5*time.Minute, time.Now())
	if err != nil {
		return nil, err
	}
	return &adminClient{base: strings.TrimSpace(string(addr)), token: tok}, nil
}

// adminClient is the running shop's dead-letter admin API.
type adminClient struct{ base, token string }

func (c *adminClient) call(ctx context.Context, method, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("call the shop at %s: %w", c.base, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("read the shop's answer: %w", err)
	}
	if res.StatusCode >= 300 {
		var p rest.Problem
		if json.Unmarshal(body, &p) == nil && p.Detail != "" {
			return errors.New(p.Detail)
		}
		return fmt.Errorf("the shop answered %s", res.Status)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(bytes.NewReader(body)).Decode(out)
}

func queuePath(queue string, rest ...string) string {
	return "/admin/queues/" + strings.Join(append([]string{url.PathEscape(queue), "dead-letters"}, rest...), "/")
}

func (c *adminClient) Stats(ctx context.Context) ([]localbus.QueueStats, error) {
	var out rest.Items[localbus.QueueStats]
	return out.Items, c.call(ctx, "GET", "/admin/queues", &out)
}

func (c *adminClient) DeadLetters(ctx context.Context, queue string) ([]localbus.DeadLetter, error) {
	var out rest.Items[localbus.DeadLetter]
	return out.Items, c.call(ctx, "GET", queuePath(queue), &out)
}

func (c *adminClient) DeadLetter(ctx context.Context, queue, id string) (localbus.DeadLetter, error) {
	var out localbus.DeadLetter
	return out, c.call(ctx, "GET", queuePath(queue, url.PathEscape(id)), &out)
}

func (c *adminClient) DeleteDeadLetter(ctx context.Context, queue, id string) error {
	return c.call(ctx, "DELETE", queuePath(queue, url.PathEscape(id)), nil)
}

func (c *adminClient) Redrive(ctx context.Context, queue string, ids ...string) (int, error) {
	var out bushttp.Redriven
	path := queuePath(queue, "redrive")
	switch len(ids) {
	case 0:
	case 1:
		path = queuePath(queue, url.PathEscape(ids[0]), "redrive")
	default:
		return 0, errors.New("the admin API redrives all dead letters or one")
	}
	return out.Moved, c.call(ctx, "POST", path, &out)
}
