package rest

import (
	"bytes"
	"context"
	stdjson "encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
)

// ProblemListener wraps ln so that the errors net/http answers by itself,
// before any handler runs, go out as problem+json like every other error
// instead of as text/plain: a malformed request line or header, bad
// percent-encoding in the URL, a header line with control characters, 431 for
// headers over the server's limit, 505 for an unsupported protocol version and
// 501 for an unknown transfer encoding. net/http writes each of these to the
// connection in one write of a fixed shape, which is what is recognised; the
// status and net/http's own words are kept. Each is logged on log, at info
// as the middleware logs refused requests, and counted in
// eventshop.http.server.malformed_requests by status: no handler sees them.
func ProblemListener(ln net.Listener, log *slog.Logger) net.Listener {
	return problemListener{ln, log}
}

type problemListener struct {
	net.Listener
	log *slog.Logger
}

func (l problemListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &problemConn{Conn: c, log: l.log}, nil
}

type problemConn struct {
	net.Conn
	log *slog.Logger
}

// malformed counts the requests net/http refused by itself.
var malformed = func() metric.Int64Counter {
	c, err := otel.Meter(scope).Int64Counter("eventshop.http.server.malformed_requests", metric.WithUnit("{request}"),
		metric.WithDescription("Requests net/http refused before any handler ran (malformed, headers too large, unsupported version), by status."))
	if err != nil {
		panic(err) // a valid, constant name
	}
	return c
}()

func (c *problemConn) Write(b []byte) (int, error) {
	if p, status, ok := serverErrorAsProblem(b); ok {
		ctx := context.Background()
		malformed.Add(ctx, 1, metric.WithAttributes(semconv.HTTPResponseStatusCode(status)))
		c.log.InfoContext(ctx, "malformed request refused", "status", status, "client", c.RemoteAddr().String())
		if _, err := c.Conn.Write(p); err != nil {
			return 0, err
		}
		return len(b), nil
	}
	return c.Conn.Write(b)
}

// CloseWrite keeps net/http's half-close after a 431 working through the wrapper.
func (c *problemConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// serverErrorHeaders is what net/http's server puts between the status line
// and the body of the errors it answers by itself.
const serverErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// serverErrorAsProblem rewrites one of net/http's own error responses into
// problem+json; ok is false for anything else.
func serverErrorAsProblem(b []byte) (_ []byte, status int, ok bool) {
	rest, found := bytes.CutPrefix(b, []byte("HTTP/1.1 "))
	if !found {
		return nil, 0, false
	}
	statusLine, body, found := bytes.Cut(rest, []byte(serverErrorHeaders))
	if !found || len(statusLine) < 3 {
		return nil, 0, false
	}
	code, err := strconv.Atoi(string(statusLine[:3]))
	if err != nil || code < 400 || code > 599 {
		return nil, 0, false
	}
	// The body repeats the status ("400 Bad Request: missing required Host
	// header"); keep only what it adds.
	detail := strings.TrimPrefix(string(body), fmt.Sprintf("%d %s", code, http.StatusText(code)))
	detail = strings.TrimPrefix(detail, ": ")
	if detail == "" {
		detail = "the request is not valid HTTP/1.1: its request line, a header, or the percent-encoding of its URL is malformed"
	}
	js, err := stdjson.Marshal(Problem{Type: "about:blank", Title: http.StatusText(code), Status: code, Detail: detail})
	if err != nil {
		return nil, 0, false
	}
	js = append(js, '\n')
	head := fmt.Sprintf("HTTP/1.1 %d %s\r\nContent-Type: application/problem+json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", code, http.StatusText(code), len(js))
	return append([]byte(head), js...), code, true
}
