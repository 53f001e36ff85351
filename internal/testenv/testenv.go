// Package testenv holds the one rule for a test whose prerequisite (a
// browser, the Lambda emulator, dynalite, a shell tool) is missing: under
// CI=true it fails, since CI installs them all; elsewhere it is skipped,
// saying how to install what is missing.
package testenv

import (
	"os"
	"testing"
)

// Missing fails t under CI=true and skips it otherwise, with the message.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}
