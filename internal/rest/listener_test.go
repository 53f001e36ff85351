package rest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// The errors net/http answers before any handler runs come out as problem+json.
func TestProblemListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler:        http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _ = JSON(w, 200, map[string]string{"path": r.URL.Path}) }),
		MaxHeaderBytes: 4 << 10,
	}
	var logged lockedLog
	go func() { _ = srv.Serve(ProblemListener(ln, slog.New(slog.NewJSONHandler(&logged, nil)))) }()
	defer srv.Close()

	tests := []struct {
		name    string
		request string
		status  int
	}{
		{"bad percent-encoding", "GET /product/%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"control character in a header", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n", 400},
		{"no host", "GET / HTTP/1.1\r\n\r\n", 400},
		{"oversized headers", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 8<<10) + "\r\n\r\n", 431},
		{"HTTP/2.0 in an HTTP/1 request line", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505},
		{"unknown transfer encoding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: rot13\r\n\r\n", 501},
		{"a good request is left alone", "GET /product/ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.WriteString(c, tt.request); err != nil {
				t.Fatal(err)
			}
			res, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tt.status, body)
			}
			if tt.status == 200 {
				if res.Header.Get("Content-Type") != "application/json" || !strings.Contains(string(body), "/product/ok") {
					t.Fatalf("a good response was changed: %v %s", res.Header, body)
				}
				return
			}
			var p Problem
			if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("Content-Type %q: %s", ct, body)
			}
			if err := json.Unmarshal(body, &p); err != nil || p.Status != tt.status || p.Detail == "" {
				t.Fatalf("problem %+v (%v) from %s", p, err, body)
			}
			// No handler saw it: the listener logs it.
			if want := fmt.Sprintf(`"msg":"malformed request refused","status":%d`, tt.status); !strings.Contains(logged.String(), want) {
				t.Fatalf("log %q has no %s", logged.String(), want)
			}
		})
	}
}

// lockedLog is a log written by the server's goroutines.
type lockedLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// A Content-Length larger than the body sent ends at the server's read
// deadline with a 408, not a hang.
func TestBodyThatNeverArrives(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		ReadTimeout: 200 * time.Millisecond,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var v struct {
				Name string `json:"name"`
			}
			if err := Decode(w, r, &v); err != nil {
				Fail(w, r, slog.New(slog.DiscardHandler), err)
				return
			}
			_ = JSON(w, 200, v)
		}),
	}
	go func() { _ = srv.Serve(ProblemListener(ln, slog.New(slog.DiscardHandler))) }()
	defer srv.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\":"); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 408 || res.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("%d %s %s, want a 408 problem", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
}
