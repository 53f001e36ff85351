// Package identity is what names a service in its telemetry: the resource
// of each service's spans and metrics, the same in the local shop and on
// Lambda.
package identity

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
)

// Namespace is every service's service.namespace.
const Namespace = "eventshop"

// InstanceID is this process's service.instance.id, shared by the services
// it hosts: the triple of namespace, name and instance id is unique.
var InstanceID = uuid.NewString()

// Resource describes service: its name in Namespace, the build's version,
// InstanceID and the attributes given (deployment.environment.name, the
// cloud and FaaS attributes on Lambda), then what OTEL_RESOURCE_ATTRIBUTES
// and OTEL_SERVICE_NAME say, which win, as the specification has it: set
// OTEL_SERVICE_NAME only to report every service under that one name.
func Resource(ctx context.Context, service string, attrs ...attribute.KeyValue) (*resource.Resource, error) {
	base := append([]attribute.KeyValue{
		semconv.ServiceName(service),
		semconv.ServiceNamespace(Namespace),
		semconv.ServiceVersion(Version()),
		semconv.ServiceInstanceID(InstanceID),
	}, attrs...)
	res, err := resource.New(ctx, resource.WithTelemetrySDK(), resource.WithAttributes(base...), resource.WithFromEnv())
	if err != nil {
		return nil, fmt.Errorf("resource of %s (OTEL_RESOURCE_ATTRIBUTES): %w", service, err)
	}
	return res, nil
}

// Version is the build's version: its module version when built from a
// tagged module, else its VCS revision (with "-dirty" for uncommitted
// changes), else "devel".
func Version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev == "" {
		return "devel"
	}
	return rev[:min(len(rev), 12)] + dirty
}
