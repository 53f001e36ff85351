package telemetry

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

// An error of the OpenTelemetry SDK (an export that failed) is a JSON log line.
func TestExportErrorsAreLogged(t *testing.T) {
	var buf bytes.Buffer
	exportErrors(slog.New(slog.NewJSONHandler(&buf, nil))).Handle(errors.New("traces export: connection refused"))
	if line := buf.String(); !strings.Contains(line, `"msg":"telemetry failed"`) || !strings.Contains(line, "connection refused") {
		t.Fatalf("logged %q", line)
	}
}
