package main

import (
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// refs lists the logical ids v refers to, by Ref or Fn::GetAtt, at any depth.
func refs(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		if id, ok := v["Ref"].(string); ok {
			out = append(out, id)
		}
		if att, ok := v["Fn::GetAtt"].([]any); ok && len(att) > 0 {
			if id, ok := att[0].(string); ok {
				out = append(out, id)
			}
		}
		for _, x := range v {
			out = append(out, refs(x)...)
		}
	case []any:
		for _, x := range v {
			out = append(out, refs(x)...)
		}
	}
	return out
}

// invoked is the logical id of the function v names through its alias.
func invoked(t *testing.T, res map[string]resource, v any) string {
	t.Helper()
	for _, id := range refs(v) {
		if res[id].Type == "AWS::Lambda::Alias" {
			if fn := refs(res[id].Properties["FunctionName"]); len(fn) == 1 {
				return fn[0]
			}
		}
	}
	t.Fatalf("%s names no function's alias", mustJSON(v))
	return ""
}

// Every way into a function (API Gateway's integrations and permissions,
// the SQS and stream event sources, the user pool's trigger) names its live
// alias: nothing invokes $LATEST, so a deploy's new version takes traffic
// only as CodeDeploy gives it.
func TestNothingInvokesLatest(t *testing.T) {
	_, res := template(t)
	fns, aliases := shopFunctions(res), ofType(res, "AWS::Lambda::Alias")
	if len(aliases) != len(fns) {
		t.Fatalf("%d aliases for %d functions, want one each", len(aliases), len(fns))
	}
	aliased := map[string]bool{}
	for id, a := range aliases {
		fn := refs(a.Properties["FunctionName"])
		version := refs(a.Properties["FunctionVersion"])
		if a.Properties["Name"] != LiveAlias || len(fn) != 1 || fns[fn[0]].Type == "" || len(version) != 1 || res[version[0]].Type != "AWS::Lambda::Version" {
			t.Errorf("alias %s: %v", id, a.Properties)
			continue
		}
		aliased[fn[0]] = true
	}
	if len(aliased) != len(fns) {
		t.Errorf("aliased %d of %d functions", len(aliased), len(fns))
	}
	ways := map[string][]string{
		"AWS::Lambda::EventSourceMapping": {"FunctionName"},
		"AWS::Lambda::Permission":         {"FunctionName"},
		"AWS::ApiGatewayV2::Integration":  {"IntegrationUri"},
		"AWS::Cognito::UserPool":          {"LambdaConfig"},
	}
	invoked := 0
	for typ, props := range ways {
		for id, r := range ofType(res, typ) {
			for _, p := range props {
				for _, target := range refs(r.Properties[p]) {
					switch res[target].Type {
					case "AWS::Lambda::Function":
						if fns[target].Type != "" {
							t.Errorf("%s %s invokes function %s itself ($LATEST), not its live alias", typ, id, target)
						}
					case "AWS::Lambda::Alias":
						invoked++
					}
				}
			}
		}
	}
	if invoked == 0 {
		t.Fatal("nothing invokes an alias: the test looks in the wrong places")
	}
}

// Each function has a CodeDeploy deployment group that moves its live alias
// by canary and rolls back on its gates (canary.Gates of its kind), and on
// nothing else: an alarm about the system pages the operators instead, so a
// stale one cannot block the deployment that fixes it.
func TestEveryFunctionDeploysByCanaryWithRollback(t *testing.T) {
	_, res := template(t)
	fns := shopFunctions(res)
	groups := ofType(res, "AWS::CodeDeploy::DeploymentGroup")
	if len(groups) != len(fns) {
		t.Fatalf("%d deployment groups for %d functions", len(groups), len(fns))
	}
	gating := map[string]bool{}
	kinds := map[string]bool{}
	for id, g := range groups {
		p := g.Properties
		if mustJSON(p["DeploymentConfigName"]) != `"CodeDeployDefault.LambdaCanary10Percent5Minutes"` {
			t.Errorf("%s deploys by %v", id, p["DeploymentConfigName"])
		}
		rollback := mustJSON(p["AutoRollbackConfiguration"])
		for _, event := range []string{"DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"} {
			if !strings.Contains(rollback, event) {
				t.Errorf("%s does not roll back on %s: %s", id, event, rollback)
			}
		}
		alarms, _ := p["AlarmConfiguration"].(map[string]any)
		var names []string
		for _, a := range refs(alarms["Alarms"]) {
			if res[a].Type != "AWS::CloudWatch::Alarm" {
				t.Errorf("%s names %s as an alarm", id, a)
			}
			gating[a] = true
			names = append(names, a)
		}
		if alarms["Enabled"] != true || len(names) == 0 {
			t.Errorf("%s: alarms %s, want the new version's gates, enabled", id, mustJSON(alarms))
		}
		slices.Sort(names)
		kinds[strings.Join(trimIDs(names), " ")] = true
	}
	// The kinds of function and their gates, as canary.Gates gives them.
	for _, want := range []string{"ErrorsAlarm FailureRateAlarm", "FailureRateAlarm", "ErrorsAlarm"} {
		if !kinds[want] {
			t.Errorf("no deployment group gates on exactly %s (have %v)", want, slices.Sorted(maps.Keys(kinds)))
		}
	}
	for id, a := range ofType(res, "AWS::CloudWatch::Alarm") {
		pages := a.Properties["AlarmActions"] != nil
		if gating[id] == pages {
			t.Errorf("alarm %s: gates a deployment %v, pages the operators %v; want one or the other", id, gating[id], pages)
		}
	}
}

// trimIDs keeps what follows the function's construct id: "ErrorsAlarm".
func trimIDs(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		id = strings.TrimRight(id, "0123456789ABCDEF")
		out[i] = id[strings.LastIndex(id, "Function")+len("Function"):]
	}
	return out
}

// A gate on Lambda's Errors watches what the new version did through the
// live alias: FunctionName, Resource (function:alias) and ExecutedVersion,
// the one dimension set Lambda publishes for a version called through an
// alias (Lambda developer guide, "Types of metrics for Lambda functions":
// https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html).
func TestGatesWatchTheNewVersionThroughItsAlias(t *testing.T) {
	_, res := template(t)
	aliases := ofType(res, "AWS::Lambda::Alias")
	seen := 0
	for id, a := range ofType(res, "AWS::CloudWatch::Alarm") {
		if a.Properties["MetricName"] != "Errors" {
			continue
		}
		seen++
		dims := map[string]any{}
		for _, d := range a.Properties["Dimensions"].([]any) {
			d := d.(map[string]any)
			dims[d["Name"].(string)] = d["Value"]
		}
		fn := refs(dims["FunctionName"])
		version := refs(dims["ExecutedVersion"])
		if len(dims) != 3 || len(fn) != 1 || len(version) != 1 || res[version[0]].Type != "AWS::Lambda::Version" ||
			!strings.Contains(mustJSON(dims["Resource"]), `":`+LiveAlias+`"`) {
			t.Errorf("%s watches %s", id, mustJSON(dims))
			continue
		}
		live := false
		for _, al := range aliases {
			live = live || (refs(al.Properties["FunctionName"])[0] == fn[0] && refs(al.Properties["FunctionVersion"])[0] == version[0])
		}
		if !live {
			t.Errorf("%s watches version %s of %s, which its live alias does not point to", id, version[0], fn[0])
		}
	}
	if seen == 0 {
		t.Fatal("no alarm on Lambda's Errors")
	}
}

// A development stage may deploy all at once; it still rolls back on alarms.
func TestADevStageDeploysAllAtOnce(t *testing.T) {
	assets, err := os.MkdirTemp("", "assets")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(assets)
	writeAssets(t, assets)
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	stack := NewShopStack(app, "Dev", &ShopStackProps{AssetDir: assets, Deployment: AllAtOnce})
	tmpl := assertions.Template_FromStack(stack, nil)
	tmpl.AllResourcesProperties(jsii.String("AWS::CodeDeploy::DeploymentGroup"), &map[string]any{
		"DeploymentConfigName": "CodeDeployDefault.LambdaAllAtOnce",
		"AutoRollbackConfiguration": map[string]any{"Enabled": true,
			"Events": []any{"DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST", "DEPLOYMENT_STOP_ON_ALARM"}},
	})
}

// Every alarm the stack makes is on a dashboard: its service's (and the
// overview's, which has them all); each service has its dashboard.
func TestEveryAlarmIsOnADashboard(t *testing.T) {
	_, res := template(t)
	var bodies []string
	names := map[string]bool{}
	for _, d := range ofType(res, "AWS::CloudWatch::Dashboard") {
		bodies = append(bodies, mustJSON(d.Properties["DashboardBody"]))
		names[d.Properties["DashboardName"].(string)] = true
	}
	for _, want := range []string{"eventshop", "eventshop-catalog", "eventshop-basket", "eventshop-ordering", "eventshop-inventory", "eventshop-payment"} {
		if !names[want] {
			t.Errorf("no dashboard %s (have %v)", want, names)
		}
	}
	alarms := ofType(res, "AWS::CloudWatch::Alarm")
	if len(alarms) == 0 {
		t.Fatal("no alarms")
	}
	for id := range alarms {
		on := 0
		for _, b := range bodies {
			if strings.Contains(b, `\"`+id+`\"`) || strings.Contains(b, `"`+id+`"`) {
				on++
			}
		}
		if on < 2 {
			t.Errorf("alarm %s is on %d dashboards, want its service's and the overview", id, on)
		}
	}
}
