// Package validation describes invalid input in a way every layer understands:
// an error naming the field at fault, which HTTP adapters turn into a 400.
package validation

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/eventshop/eventshop/internal/kind"
)

// Error reports one invalid field.
type Error struct {
	Field  string
	Reason string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Reason) }

// Kind makes invalid input an outcome that HTTP adapters answer with 400.
func (e *Error) Kind() kind.Kind { return kind.Invalid }

// Field returns an *Error for field.
func Field(field, format string, args ...any) error {
	return &Error{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Text checks a string field: required or not, at most max characters, valid UTF-8
// and free of control characters.
func Text(field, value string, required bool, max int) error {
	switch {
	case required && value == "":
		return Field(field, "is required")
	case !utf8.ValidString(value):
		return Field(field, "must be valid UTF-8")
	case utf8.RuneCountInString(value) > max:
		return Field(field, "must be at most %d characters", max)
	}
	for _, r := range value {
		if r < 0x20 || r == 0x7f {
			return Field(field, "must not contain control characters")
		}
	}
	return nil
}

// alnum reports whether c is an ASCII letter or digit.
func alnum(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' }

// each reports whether every byte of s passes ok. (These checks are loops,
// not regular expressions: compiling those at init cost each Lambda cold
// start half a millisecond.)
func each(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// ID checks an identifier before it becomes a store key: ^[A-Za-z0-9_-]{1,64}$.
func ID(field, value string) error {
	if len(value) < 1 || len(value) > 64 || !each(value, func(c byte) bool { return alnum(c) || c == '_' || c == '-' }) {
		return Field(field, "must be 1 to 64 letters, digits, '-' or '_'")
	}
	return nil
}

// UserNamePattern is the documented shape of a user name.
const UserNamePattern = `^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`

// UserName checks a user name against UserNamePattern.
func UserName(field, value string) error {
	if len(value) < 1 || len(value) > 64 || !alnum(value[0]) ||
		!each(value[1:], func(c byte) bool { return alnum(c) || c == '.' || c == '_' || c == '@' || c == '-' }) {
		return Field(field, "must match %s", UserNamePattern)
	}
	return nil
}

// FileNamePattern is the documented shape of a plain file name: no
// directory, no leading dot.
const FileNamePattern = `^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$`

// FileName checks an optional file name against FileNamePattern.
func FileName(field, value string) error {
	if value == "" {
		return nil
	}
	if len(value) > 200 || !alnum(value[0]) || !each(value[1:], func(c byte) bool { return alnum(c) || c == '.' || c == '_' || c == '-' }) {
		return Field(field, "must be a plain file name matching %s", FileNamePattern)
	}
	return nil
}

// Email checks a required e-mail address: one bare address as net/mail
// parses it (no display name, no comment), within the lengths RFC 5321
// allows (a local part of at most 64 octets, a domain of at most 255, a
// path of at most 254).
func Email(field, value string) error {
	if value == "" {
		return Field(field, "is required")
	}
	addr, err := mail.ParseAddress(value)
	if err != nil || addr.Name != "" || addr.Address != value {
		return Field(field, "must be an e-mail address such as ada@example.com")
	}
	at := strings.LastIndexByte(value, '@')
	if len(value) > 254 || at > 64 || len(value)-at-1 > 255 {
		return Field(field, "must be an e-mail address of at most 254 characters, 64 before the @")
	}
	return nil
}

// OneOf checks that a required value is one of values.
func OneOf(field, value string, values []string) error {
	if !slices.Contains(values, value) {
		return Field(field, "must be one of %s", strings.Join(values, ", "))
	}
	return nil
}

// First returns the first non-nil error.
func First(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
