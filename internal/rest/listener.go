package rest

import (
	"bytes"
	stdjson "encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// ProblemListener wraps ln so that the errors net/http answers by itself,
// before any handler runs, go out as problem+json like every other error
// instead of as text/plain: a malformed request line or header, bad
// percent-encoding in the URL, a header line with control characters, 431 for
// headers over the server's limit, 505 for an unsupported protocol version and
// 501 for an unknown transfer encoding. net/http writes each of these to the
// connection in one write of a fixed shape, which is what is recognised; the
// status and net/http's own words are kept.
func ProblemListener(ln net.Listener) net.Listener { return problemListener{ln} }

type problemListener struct{ net.Listener }

func (l problemListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &problemConn{Conn: c}, nil
}

type problemConn struct{ net.Conn }

func (c *problemConn) Write(b []byte) (int, error) {
	if p, ok := serverErrorAsProblem(b); ok {
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
func serverErrorAsProblem(b []byte) (_ []byte, ok bool) {
	rest, found := bytes.CutPrefix(b, []byte("HTTP/1.1 "))
	if !found {
		return nil, false
	}
	statusLine, body, found := bytes.Cut(rest, []byte(serverErrorHeaders))
	if !found || len(statusLine) < 3 {
		return nil, false
	}
	code, err := strconv.Atoi(string(statusLine[:3]))
	if err != nil || code < 400 || code > 599 {
		return nil, false
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
		return nil, false
	}
	js = append(js, '\n')
	head := fmt.Sprintf("HTTP/1.1 %d %s\r\nContent-Type: application/problem+json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", code, http.StatusText(code), len(js))
	return append([]byte(head), js...), true
}
