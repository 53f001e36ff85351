package localjwt

import (
	"log/slog"
	"testing"
	"time"
)

// FuzzVerify: no token may panic the verifier, and none but a token the keys
// issued may verify: the only one issued here is alice's, without groups.
func FuzzVerify(f *testing.F) {
	k, err := LoadOrCreate(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	good, _ := k.Issue("alice", false, time.Hour, time.Now())
	for _, s := range []string{good, good + "x", "a.b.c", "", "eyJhbGciOiJub25lIn0.e30.", "...."} {
		f.Add(s)
	}
	v := k.Verifier(slog.New(slog.DiscardHandler))
	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.Verify(token)
		if err == nil && (c.UserName != "alice" || c.IsAdmin()) {
			t.Fatalf("accepted %q as %+v", token, c)
		}
	})
}
