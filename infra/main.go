// Command infra is eventshop's AWS CDK app: it synthesizes the stack that runs
// the same services on API Gateway, Lambda, DynamoDB, EventBridge and SQS.
//
//	make synth     # cdk.out/, no AWS credentials needed
//	make deploy    # with credentials, through the pinned CDK CLI
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

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
	for _, fn := range Functions {
		if _, err := os.Stat(filepath.Join(assets, fn, "bootstrap")); err != nil {
			fmt.Fprintf(os.Stderr, "infra: %s/%s/bootstrap is missing: run make lambdas first\n", assets, fn)
			os.Exit(1)
		}
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir)})
	NewShopStack(app, "EventShop", &ShopStackProps{AssetDir: assets})
	app.Synth(nil)
}
