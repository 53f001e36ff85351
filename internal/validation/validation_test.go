package validation

import (
	"errors"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/eventshop/eventshop/internal/kind"
)

func TestRules(t *testing.T) {
	tests := []struct {
		name string
		err  error
		ok   bool
	}{
		{"text ok", Text("f", "Widget", true, 10), true},
		{"text required", Text("f", "", true, 10), false},
		{"text optional", Text("f", "", false, 10), true},
		{"text too long", Text("f", strings.Repeat("é", 11), true, 10), false},
		{"text counts runes", Text("f", strings.Repeat("é", 10), true, 10), true},
		{"text control char", Text("f", "a\nb", true, 10), false},
		{"text last control char", Text("f", "a\x1fb", true, 10), false},
		{"text space", Text("f", "a b", true, 10), true},
		{"text delete", Text("f", "a\x7fb", true, 10), false},
		{"text tilde", Text("f", "a~b", true, 10), true},
		{"text invalid utf8", Text("f", "\xff", true, 10), false},
		{"id ok", ID("id", "0193a1b2-c3d4_X"), true},
		{"id slash", ID("id", "a/b"), false},
		{"id empty", ID("id", ""), false},
		{"id long", ID("id", strings.Repeat("a", 65)), false},
		{"user ok", UserName("u", "ada.lovelace@example.com"), true},
		{"user leading dot", UserName("u", ".ada"), false},
		{"user space", UserName("u", "ada lovelace"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if (tt.err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok = %v", tt.err, tt.ok)
			}
			var verr *Error
			if tt.err != nil && (!errors.As(tt.err, &verr) || verr.Kind() != kind.Invalid) {
				t.Fatalf("%v is not a validation error", tt.err)
			}
		})
	}
}

// The loops that check ids and user names accept exactly what their
// documented patterns match.
func TestChecksMatchTheirPatterns(t *testing.T) {
	idRe := regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	userRe := regexp.MustCompile(UserNamePattern)
	alphabet := []byte("aZ09_-.@ é/\x00")
	rng := rand.New(rand.NewPCG(1, 2))
	inputs := []string{"", strings.Repeat("a", 64), strings.Repeat("a", 65), "-a", ".a", "a.", "José"}
	for range 20000 {
		b := make([]byte, rng.IntN(70))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		inputs = append(inputs, string(b))
	}
	for _, in := range inputs {
		if got, want := ID("f", in) == nil, idRe.MatchString(in); got != want {
			t.Fatalf("ID(%q) accepts = %v, the pattern %v", in, got, want)
		}
		if got, want := UserName("f", in) == nil, userRe.MatchString(in); got != want {
			t.Fatalf("UserName(%q) accepts = %v, the pattern %v", in, got, want)
		}
	}
}

func TestFileName(t *testing.T) {
	for name, ok := range map[string]bool{
		"": true, "phone.png": true, "iPhone_15-pro.v2.JPG": true,
		"../../etc/passwd": false, ".hidden": false, "dir/a.png": false, `dir\a.png`: false, "a b.png": false, "<x>.png": false,
		strings.Repeat("a", 200): true, strings.Repeat("a", 201): false,
	} {
		if err := FileName("imageFile", name); (err == nil) != ok {
			t.Errorf("%q: %v, want ok = %v", name, err, ok)
		}
	}
}

func TestOneOf(t *testing.T) {
	if err := OneOf("m", "b", []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	if err := OneOf("m", "c", []string{"a", "b"}); err == nil || !strings.Contains(err.Error(), "a, b") {
		t.Fatalf("c: %v", err)
	}
}
