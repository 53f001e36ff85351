// Package localjwt is sign-in for the local runtime: it keeps a signing key in
// the data dir, issues tokens shaped like Cognito ID tokens, and verifies them
// on every request (signature by ES256 or RS256 only, issuer, audience,
// expiry, not-before), putting the claims where handlers read them on AWS.
package localjwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/eventshop/eventshop/internal/auth"
	"github.com/eventshop/eventshop/internal/expiring"
	"github.com/eventshop/eventshop/internal/validation"
)

// Issuer and Audience of local tokens.
const (
	Issuer   = "eventshop-local"
	Audience = "eventshop"
)

// KeyFile is the signing key's file in the data dir.
const KeyFile = "jwt-signing-key.pem"

// Keys signs and verifies local tokens.
type Keys struct {
	private *ecdsa.PrivateKey
	kid     string
}

// LoadOrCreate reads the signing key from dir, creating it on first use.
func LoadOrCreate(dir string) (*Keys, error) {
	k, err := Load(dir)
	if errors.Is(err, os.ErrNotExist) {
		if err := create(dir, filepath.Join(dir, KeyFile)); err != nil {
			return nil, err
		}
		return Load(dir)
	}
	return k, err
}

// Load reads the signing key in dir; the error wraps os.ErrNotExist when
// there is none.
func Load(dir string) (*Keys, error) {
	path := filepath.Join(dir, KeyFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("signing key %s is not PEM", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse signing key %s: %w", path, err)
	}
	priv, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s is not an ECDSA key", path)
	}
	return newKeys(priv)
}

func newKeys(priv *ecdsa.PrivateKey) (*Keys, error) {
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(der)
	return &Keys{private: priv, kid: base64.RawURLEncoding.EncodeToString(sum[:12])}, nil
}

// create writes a new P-256 key to path; when another process wins the race
// to create it, its key is kept.
func create(dir, path string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".jwt-key-*")
	if err != nil {
		return fmt.Errorf("write signing key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := pem.Encode(tmp, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		tmp.Close()
		return fmt.Errorf("write signing key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("write signing key: %w", err)
	}
	return nil
}

// tokenClaims are the claims of a Cognito ID token that eventshop reads.
type tokenClaims struct {
	jwt.RegisteredClaims
	UserName string   `json:"cognito:username"`
	Groups   []string `json:"cognito:groups,omitempty"`
	TokenUse string   `json:"token_use"`
}

// Issue signs a token for userName, in the admin group when admin is true,
// valid from now for ttl.
func (k *Keys) Issue(userName string, admin bool, ttl time.Duration, now time.Time) (string, error) {
	if err := validation.UserName("user", userName); err != nil {
		return "", err
	}
	if ttl <= 0 || ttl > 30*24*time.Hour {
		return "", validation.Field("ttl", "must be more than 0 and at most 720h")
	}
	c := tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    Issuer,
			Subject:   "local:" + userName,
			Audience:  jwt.ClaimStrings{Audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
		UserName: userName,
		TokenUse: "id",
	}
	if admin {
		c.Groups = []string{auth.AdminGroup}
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, c)
	t.Header["kid"] = k.kid
	return t.SignedString(k.private)
}

// Verifier checks tokens against a set of public keys by key id.
//
// It remembers the tokens it verified until they expire, as API Gateway's
// authorizer cache does: a client sends the same token with every request,
// and checking its ES256 signature again each time was a tenth of a basket
// write's CPU. Only the exact token string verified is remembered; any other
// string is checked in full.
type Verifier struct {
	keys   map[string]crypto.PublicKey
	parser *jwt.Parser
	log    *slog.Logger
	now    func() time.Time
	cache  *expiring.Map[string, auth.Claims] // verified tokens, until they expire
}

// verifiedMax bounds the tokens a Verifier remembers; when full it starts afresh.
const verifiedMax = 10_000

// Verifier returns the verifier of k's tokens.
func (k *Keys) Verifier(log *slog.Logger) *Verifier {
	v := &Verifier{keys: map[string]crypto.PublicKey{k.kid: &k.private.PublicKey}, log: log, now: time.Now,
		cache: expiring.New[string, auth.Claims](verifiedMax)}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{"ES256", "RS256"}),
		jwt.WithIssuer(Issuer),
		jwt.WithAudience(Audience),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return v.now() }),
	)
	return v
}

// Verify checks token and returns its claims.
func (v *Verifier) Verify(token string) (auth.Claims, error) {
	if claims, ok := v.cache.Get(token, v.now()); ok {
		return claims, nil
	}
	var c tokenClaims
	_, err := v.parser.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		key, ok := v.keys[kid]
		if !ok {
			return nil, fmt.Errorf("unknown key id %q", kid)
		}
		return key, nil
	})
	if err != nil {
		return auth.Claims{}, err
	}
	if c.Subject == "" || validation.UserName("cognito:username", c.UserName) != nil {
		return auth.Claims{}, errors.New("token lacks a subject or a valid cognito:username")
	}
	claims := auth.Claims{Subject: c.Subject, UserName: c.UserName, Groups: c.Groups}
	v.cache.Put(token, claims, c.ExpiresAt.Time) // required and checked by the parser
	return claims, nil
}

// Middleware verifies the bearer token of each request that carries one and
// puts its claims in the request's context, or marks the context when the
// token is not valid; routes decide whether they need a caller.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h == "" {
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			next.ServeHTTP(w, r.WithContext(auth.WithInvalidToken(ctx)))
			return
		}
		c, err := v.Verify(strings.TrimSpace(token))
		if err != nil {
			v.log.InfoContext(ctx, "rejected token", "err", err)
			next.ServeHTTP(w, r.WithContext(auth.WithInvalidToken(ctx)))
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.WithClaims(ctx, c)))
	})
}
