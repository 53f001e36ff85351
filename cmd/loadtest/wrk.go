package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// The read load is driven by wrk, not by vegeta: on two cores the load
// generator shares the servers' CPU, and vegeta (a Go HTTP client that keeps
// every result) spent as much of it per request as the bare server did,
// so that both servers were held to vegeta's rate (a ratio of 0.86–0.98 that
// said nothing about the shop). wrk's event loop costs a fraction of that:
// the figures measure the servers. On a machine with four CPUs or more, wrk
// runs on CPUs of its own (cores).

// wrkReport has wrk print its summary as one line of JSON when it is done.
const wrkReport = `done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('\n{"requests":%d,"micros":%d,"p50":%d,"p99":%d,"errors":%d,"status":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
`

// readLoad is what one closed-loop read load measured.
type readLoad struct {
	rate     float64 // answered requests per second
	p50, p99 time.Duration
}

// writeReport writes wrkReport into dir, for every wrk run to load.
func writeReport(dir string) (string, error) {
	script := filepath.Join(dir, "report.lua")
	return script, os.WriteFile(script, []byte(wrkReport), 0o600)
}

// wrk drives url with conns connections as fast as the server answers (a
// closed loop) for dur, on the CPUs where gives it, with script (writeReport)
// reporting. A request that fails or is answered with anything but 2xx or
// 3xx fails the measurement.
func wrk(script, url string, conns int, dur time.Duration) (readLoad, error) {
	out, err := where.wrk(conns, "--connections", strconv.Itoa(conns),
		"--duration", fmt.Sprintf("%ds", max(1, int(dur.Seconds()))), "--script", script, url).Output()
	if err != nil {
		return readLoad{}, fmt.Errorf("wrk (make loadtest installs it; apt-get install wrk): %w", err)
	}
	var r struct{ Requests, Micros, P50, P99, Errors, Status int64 }
	if err := json.Unmarshal(out[bytes.LastIndexByte(bytes.TrimSpace(out), '\n')+1:], &r); err != nil {
		return readLoad{}, fmt.Errorf("read wrk's report %q: %w", out, err)
	}
	if r.Errors+r.Status > 0 || r.Requests == 0 {
		return readLoad{}, fmt.Errorf("wrk against %s: %d requests, %d failed, %d answered with an error status", url, r.Requests, r.Errors, r.Status)
	}
	return readLoad{
		rate: float64(r.Requests) / (float64(r.Micros) / 1e6),
		p50:  time.Duration(r.P50) * time.Microsecond,
		p99:  time.Duration(r.P99) * time.Microsecond,
	}, nil
}
