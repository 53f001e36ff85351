// Package lambdametrics gives the Lambda functions that record metrics (the
// consumers count deliveries, the publishers events) a meter provider whose
// counters are written to standard output as EMF lines after each
// invocation: CloudWatch Logs makes them metrics, by function and queue or
// detail type. The API functions and the pre-sign-up trigger record none
// (API Gateway counts and times every request) and do not import it, so they
// link no metric SDK and start faster (docs/performance.md).
package lambdametrics

import (
	"context"
	"log/slog"
	"os"

	"go.opentelemetry.io/otel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/eventshop/eventshop/cmd/lambda/internal/lambdaenv"
	"github.com/eventshop/eventshop/internal/awsenv"
	"github.com/eventshop/eventshop/internal/telemetry/emf"
	"github.com/eventshop/eventshop/internal/telemetry/identity"
)

// Namespace is the CloudWatch namespace of the functions' metrics.
const Namespace = awsenv.MetricsNamespace

// Install makes fn's meter provider the process's, its resource its
// service's (identity.Resource), and has
// lambdaenv.Start write what each invocation counted before it answers.
func Install(fn awsenv.Function, log *slog.Logger) {
	reader := emf.NewReader()
	res, err := identity.Resource(context.Background(), fn.Service, lambdaenv.ResourceAttributes(fn.Name)...)
	lambdaenv.Must(log, err)
	otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(reader)))
	lambdaenv.AfterInvoke(func(ctx context.Context) {
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(ctx, &rm); err != nil {
			log.WarnContext(ctx, "collect metrics", "err", err)
		} else if err := emf.Write(os.Stdout, Namespace, &rm); err != nil {
			log.WarnContext(ctx, "write metrics", "err", err)
		}
	})
}
