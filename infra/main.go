// Command infra is eventshop's AWS CDK app: it synthesizes the stack that runs
// the same services on API Gateway, Lambda, DynamoDB, EventBridge and SQS.
//
//	make synth     # cdk.out/, no AWS credentials needed
//	make deploy    # with credentials, through the pinned CDK CLI
package main

import (
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// builtWithOTLP reports whether the Go binary at path was built with the
// otlp tag, which links the OTLP trace exporter.
func builtWithOTLP(path string) (bool, error) {
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return false, err
	}
	for _, s := range info.Settings {
		if s.Key == "-tags" {
			return slices.Contains(strings.Split(s.Value, ","), "otlp"), nil
		}
	}
	return false, nil
}

func main() {
	defer jsii.Close()
	outdir := os.Getenv("CDK_OUTDIR") // set by the CDK CLI
	if outdir == "" {
		outdir = "cdk.out"
	}
	assets := os.Getenv("EVENTSHOP_DIST")
	if assets == "" {
		assets = filepath.Join("..", "dist")
	}
	// Set by make synth and make deploy from OTLP_ENDPOINT and OTLP_LAYER_ARN.
	otlp, layer := os.Getenv("EVENTSHOP_OTLP_ENDPOINT"), os.Getenv("EVENTSHOP_OTLP_LAYER_ARN")
	for _, fn := range Functions {
		bin := filepath.Join(assets, fn, "bootstrap")
		if _, err := os.Stat(bin); err != nil {
			fmt.Fprintf(os.Stderr, "infra: %s is missing: run make lambdas first\n", bin)
			os.Exit(1)
		}
		if otlp == "" {
			continue
		}
		if ok, err := builtWithOTLP(bin); err != nil || !ok {
			fmt.Fprintf(os.Stderr, "infra: %s cannot export spans (%v): run make lambdas OTLP_ENDPOINT=%s\n", bin, err, otlp)
			os.Exit(1)
		}
	}
	// Set by make synth and make deploy from ARCHIVE_DAYS.
	archiveDays := 0
	if v := os.Getenv("EVENTSHOP_ARCHIVE_DAYS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "infra: ARCHIVE_DAYS=%s: must be a number of days, 1 or more\n", v)
			os.Exit(1)
		}
		archiveDays = n
	}
	// Set by make synth and make deploy from DEPLOYMENT.
	deployment := Deployment(os.Getenv("EVENTSHOP_DEPLOYMENT"))
	if deployment != "" && deployment != Canary && deployment != AllAtOnce {
		fmt.Fprintf(os.Stderr, "infra: DEPLOYMENT=%s: want %s (the default) or %s\n", deployment, Canary, AllAtOnce)
		os.Exit(1)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir)})
	NewShopStack(app, "EventShop", &ShopStackProps{AssetDir: assets, OTLPEndpoint: otlp, OTLPLayerARN: layer, ArchiveDays: archiveDays, Deployment: deployment})
	template := app.Synth(nil).GetStackByName(jsii.String("EventShop")).Template()
	// A stack over one of AWS's quotas would fail only once deployed, and roll back.
	b, err := json.Marshal(template)
	var doc struct{ Resources map[string]resource }
	if err == nil {
		err = json.Unmarshal(b, &doc)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "infra: read the synthesized template: %v\n", err)
		os.Exit(1)
	}
	if over := checkQuotas(doc.Resources); len(over) > 0 {
		fmt.Fprintf(os.Stderr, "infra: the stack is over AWS's quotas:\n  %s\n", strings.Join(over, "\n  "))
		os.Exit(1)
	}
	// An alarm on a metric nobody publishes never fires.
	if missing := unpublishedMetrics(doc.Resources); len(missing) > 0 {
		fmt.Fprintf(os.Stderr, "infra: the stack watches metrics nobody publishes:\n  %s\n", strings.Join(missing, "\n  "))
		os.Exit(1)
	}
}
