package main

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// TestAwsSolutionsChecks runs cdk-nag's AwsSolutions pack over the stack: any
// finding that the stack does not suppress, with its reason, fails the test.
func TestAwsSolutionsChecks(t *testing.T) {
	assets := assetDir(t)
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	stack := NewShopStack(app, "Nag", &ShopStackProps{AssetDir: assets})
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	annotations := assertions.Annotations_FromStack(stack)
	var findings []string
	for _, level := range []func(*string, interface{}) *[]*cxapi.SynthesisMessage{annotations.FindError, annotations.FindWarning} {
		for _, m := range *level(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))) {
			findings = append(findings, *m.Id+": "+strings.SplitN(mustJSON(m.Entry.Data), `\n`, 2)[0])
		}
	}
	if len(findings) > 0 {
		t.Fatalf("%d unsuppressed cdk-nag findings:\n%s", len(findings), strings.Join(findings, "\n"))
	}
}
