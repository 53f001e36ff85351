package rest

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// PreferredWait is how long the client asks the server to wait for what it
// reads to exist, by RFC 7240's "Prefer: wait=<seconds>"; zero when it does
// not ask. A preference that is malformed is ignored, as RFC 7240 says.
func PreferredWait(r *http.Request) time.Duration {
	for _, header := range r.Header.Values("Prefer") {
		for pref := range strings.SplitSeq(header, ",") {
			pref, _, _ = strings.Cut(pref, ";") // its parameters
			name, value, ok := strings.Cut(pref, "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(name), "wait") {
				continue
			}
			secs, err := strconv.ParseUint(strings.Trim(strings.TrimSpace(value), `"`), 10, 31)
			if err != nil {
				return 0
			}
			return time.Duration(secs) * time.Second
		}
	}
	return 0
}
