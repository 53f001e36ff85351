package localjwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/eventshop/eventshop/internal/auth"
)

func keys(t *testing.T) *Keys {
	t.Helper()
	k, err := LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func claims(user string, now time.Time) tokenClaims {
	return tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: Issuer, Subject: "local:" + user, Audience: jwt.ClaimStrings{Audience},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
		},
		UserName: user, TokenUse: "id",
	}
}

func sign(t *testing.T, k *Keys, c tokenClaims, kid string) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, c)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(k.private)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestIssueAndVerify(t *testing.T) {
	k := keys(t)
	v := k.Verifier(slog.New(slog.DiscardHandler))
	tok, err := k.Issue("alice", true, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.UserName != "alice" || !c.IsAdmin() || c.Subject == "" {
		t.Fatalf("claims = %+v", c)
	}
	if _, err := k.Issue("bad name", false, time.Hour, time.Now()); err == nil {
		t.Fatal("issued a token for an invalid user name")
	}
}

func TestIssueLifetimeBounds(t *testing.T) {
	k := keys(t)
	v := k.Verifier(slog.New(slog.DiscardHandler))
	now := time.Now()
	for ttl, ok := range map[time.Duration]bool{-time.Second: false, 0: false, time.Second: true, 720 * time.Hour: true, 720*time.Hour + time.Second: false} {
		tok, err := k.Issue("alice", false, ttl, now)
		if (err == nil) != ok {
			t.Errorf("ttl %v: err = %v, want ok = %v", ttl, err, ok)
			continue
		}
		if !ok {
			continue
		}
		var c tokenClaims
		if _, _, err := jwt.NewParser().ParseUnverified(tok, &c); err != nil {
			t.Fatal(err)
		}
		if got := c.ExpiresAt.Sub(c.IssuedAt.Time); got != ttl.Truncate(time.Second) {
			t.Errorf("ttl %v: token lives %v", ttl, got)
		}
		if c.NotBefore.Time != c.IssuedAt.Time {
			t.Errorf("ttl %v: not before %v, issued %v", ttl, c.NotBefore, c.IssuedAt)
		}
		if ttl < time.Hour {
			continue // it may expire before Verify runs
		}
		if c2, err := v.Verify(tok); err != nil || c2.IsAdmin() {
			t.Errorf("ttl %v: Verify = %+v, %v (a non-admin token)", ttl, c2, err)
		}
	}
}

func TestKeyPersists(t *testing.T) {
	dir := t.TempDir()
	a, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := a.Issue("alice", false, time.Hour, time.Now())
	b, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Verifier(slog.New(slog.DiscardHandler)).Verify(tok); err != nil {
		t.Fatalf("a token from before a restart no longer verifies: %v", err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, KeyFile)); fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestRejectedTokens(t *testing.T) {
	k := keys(t)
	v := k.Verifier(slog.New(slog.DiscardHandler))
	now := time.Now()
	pubDER, _ := x509.MarshalPKIXPublicKey(&k.private.PublicKey)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)

	expired := claims("alice", now.Add(-2*time.Hour))
	notYet := claims("alice", now.Add(time.Hour))
	wrongIss := claims("alice", now)
	wrongIss.Issuer = "someone-else"
	wrongAud := claims("alice", now)
	wrongAud.Audience = jwt.ClaimStrings{"other-app"}
	noExp := claims("alice", now)
	noExp.ExpiresAt = nil
	badUser := claims("../../etc", now)

	good := sign(t, k, claims("alice", now), k.kid)
	parts := strings.Split(good, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var m map[string]any
	_ = json.Unmarshal(payload, &m)
	m["cognito:groups"] = []string{"admin"}
	forged, _ := json.Marshal(m)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(forged) + "." + parts[2]

	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims("alice", now)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	hsTok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims("alice", now))
	hsTok.Header["kid"] = k.kid
	hs, _ := hsTok.SignedString(pubDER) // the classic confusion attack: HMAC keyed with the public key
	rsTok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims("alice", now))
	rsTok.Header["kid"] = k.kid
	rs, _ := rsTok.SignedString(rsaKey) // RS256 by a key that is not ours
	foreign := jwt.NewWithClaims(jwt.SigningMethodES256, claims("alice", now))
	foreign.Header["kid"] = k.kid
	foreignSigned, _ := foreign.SignedString(other)

	cases := map[string]string{
		"expired":                   sign(t, k, expired, k.kid),
		"not yet valid":             sign(t, k, notYet, k.kid),
		"wrong issuer":              sign(t, k, wrongIss, k.kid),
		"wrong audience":            sign(t, k, wrongAud, k.kid),
		"no expiry":                 sign(t, k, noExp, k.kid),
		"invalid user name":         sign(t, k, badUser, k.kid),
		"unknown key id":            sign(t, k, claims("alice", now), "nope"),
		"tampered payload":          tampered,
		"alg none":                  none,
		"HS256 with the public key": hs,
		"RS256 by another key":      rs,
		"ES256 by another key":      foreignSigned,
		"garbage":                   "not.a.token",
		"empty":                     "",
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			if c, err := v.Verify(tok); err == nil {
				t.Fatalf("accepted: %+v", c)
			}
			// Over HTTP: a route that needs a caller answers 401 with WWW-Authenticate.
			h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if _, err := auth.Caller(r.Context()); err != auth.ErrInvalidToken {
					t.Errorf("Caller = %v, want ErrInvalidToken", err)
				}
			}))
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Authorization", "Bearer "+tok)
			h.ServeHTTP(httptest.NewRecorder(), r)
		})
	}
}

// A verified token is remembered until it expires, and only that exact
// string: a token altered after its first check is checked in full again.
func TestVerifiedTokensAreRememberedUntilTheyExpire(t *testing.T) {
	k := keys(t)
	v := k.Verifier(slog.New(slog.DiscardHandler))
	clock := time.Now()
	v.now = func() time.Time { return clock }
	tok, err := k.Issue("alice", false, time.Minute, clock)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := v.Verify(tok); err != nil || c.UserName != "alice" {
		t.Fatalf("Verify = %+v, %v", c, err)
	}
	v.keys = map[string]crypto.PublicKey{} // from here on, only remembered tokens pass
	if c, err := v.Verify(tok); err != nil || c.UserName != "alice" {
		t.Fatalf("Verify of a remembered token = %+v, %v; want it from memory", c, err)
	}
	altered := tok[:len(tok)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(tok, "AA")]
	if _, err := v.Verify(altered); err == nil {
		t.Fatal("an altered token passed on its original's memory")
	}
	clock = clock.Add(time.Minute)
	if _, err := v.Verify(tok); err == nil {
		t.Fatal("a remembered token passed after it expired")
	}
}
