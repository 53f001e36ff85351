// Package service carries, in a context, the name of the service whose work
// the context is part of: its spans are that service's (telemetry.Services)
// and its log lines say so (correlation.LogHandler). It depends on nothing,
// so that what runs on Lambda can import it.
package service

import "context"

type key struct{}

// With returns ctx carrying service's name: set where a service's work
// starts (a request routed to it, a message delivered to its queue, its
// outbox relayed), not inherited from the caller.
func With(ctx context.Context, service string) context.Context {
	return context.WithValue(ctx, key{}, service)
}

// From is the name ctx carries, or "".
func From(ctx context.Context) string {
	s, _ := ctx.Value(key{}).(string)
	return s
}
