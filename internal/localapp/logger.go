package localapp

import (
	"context"
	"io"
	"log/slog"

	"github.com/eventshop/eventshop/internal/correlation"
	"github.com/eventshop/eventshop/internal/telemetry"
)

// Logger is the shop's logger: JSON lines on w from level up, and, when the
// environment configures an OTLP export of logs (telemetry.LogHandler), the
// same records exported with their trace context; every record carries its
// service, correlation id and trace ids (correlation.LogHandler).
func Logger(ctx context.Context, w io.Writer, level slog.Level) (*slog.Logger, error) {
	var h slog.Handler = slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})
	otlp, err := telemetry.LogHandler(ctx)
	if err != nil {
		return nil, err
	}
	if otlp != nil {
		h = slog.NewMultiHandler(h, leveled{otlp, level})
	}
	return slog.New(correlation.LogHandler{Handler: h}), nil
}

// leveled is a handler with the records below min left out.
type leveled struct {
	slog.Handler
	min slog.Level
}

func (l leveled) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= l.min && l.Handler.Enabled(ctx, level)
}

func (l leveled) WithAttrs(attrs []slog.Attr) slog.Handler {
	return leveled{l.Handler.WithAttrs(attrs), l.min}
}

func (l leveled) WithGroup(name string) slog.Handler {
	return leveled{l.Handler.WithGroup(name), l.min}
}
