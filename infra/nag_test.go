package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
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
	nag := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
	var findings []string
	for _, found := range []any{annotations.FindError(jsii.String("*"), nag), annotations.FindWarning(jsii.String("*"), nag)} {
		// Read through JSON: the Go type of a synthesis message is deprecated in
		// the CDK bindings, though the assertions still return it.
		var messages []struct {
			ID    string `json:"id"`
			Entry struct {
				Data any `json:"data"`
			} `json:"entry"`
		}
		if err := json.Unmarshal([]byte(mustJSON(found)), &messages); err != nil {
			t.Fatal(err)
		}
		for _, m := range messages {
			findings = append(findings, m.ID+": "+strings.SplitN(mustJSON(m.Entry.Data), `\n`, 2)[0])
		}
	}
	if len(findings) > 0 {
		t.Fatalf("%d unsuppressed cdk-nag findings:\n%s", len(findings), strings.Join(findings, "\n"))
	}
}
