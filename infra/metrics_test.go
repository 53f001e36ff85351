package main

import (
	"strings"
	"testing"
)

// Every alarm and every dashboard widget watches a metric AWS documents at
// that dimension set (awsMetrics, each row citing its page), or one the
// functions print (emf-metrics.json, written from their output) or the
// template's metric filters make: an alarm on anything else never fires.
func TestEveryAlarmAndWidgetWatchesAPublishedMetric(t *testing.T) {
	_, res := template(t)
	for _, m := range unpublishedMetrics(res) {
		t.Error(m)
	}
	watched := watchedMetrics(res)
	kinds := map[string]int{}
	for _, w := range watched {
		kinds[strings.Fields(w.on)[0]+" "+w.namespace]++
	}
	for _, want := range []string{"alarm AWS/Lambda", "alarm AWS/SQS", "alarm AWS/ApiGateway", "alarm EventShop", "dashboard AWS/SQS", "dashboard EventShop", "dashboard AWS/ApiGateway"} {
		if kinds[want] == 0 {
			t.Errorf("no %s metric watched (have %v): the check reads the wrong place", want, kinds)
		}
	}
}

// What the stack watched before it was held to the table is refused: a
// version as FunctionName (Lambda publishes the bare name), a REST API's
// Method and Resource on an HTTP API, a metric the functions never print.
func TestAnUnpublishedMetricFails(t *testing.T) {
	for name, r := range map[string]resource{
		"a version as FunctionName": {Type: "AWS::CloudWatch::Alarm", Properties: map[string]any{"Namespace": "AWS/Lambda", "MetricName": "Errors",
			"Dimensions": []any{map[string]any{"Name": "FunctionName", "Value": "fn:7"}, map[string]any{"Name": "Version", "Value": "7"}}}},
		"a REST API's dimensions": {Type: "AWS::CloudWatch::Alarm", Properties: map[string]any{"Namespace": "AWS/ApiGateway", "MetricName": "5xx",
			"Dimensions": []any{map[string]any{"Name": "ApiId"}, map[string]any{"Name": "Method"}, map[string]any{"Name": "Resource"}, map[string]any{"Name": "Stage"}}}},
		"a metric never printed": {Type: "AWS::CloudWatch::Alarm", Properties: map[string]any{"Metrics": []any{map[string]any{"MetricStat": map[string]any{
			"Metric": map[string]any{"Namespace": "EventShop", "MetricName": "eventshop.nothing", "Dimensions": []any{}}}}}}},
		"a search on a dimension never printed": {Type: "AWS::CloudWatch::Dashboard", Properties: map[string]any{"DashboardBody": `{"widgets":[{"properties":{"metrics":[[{"expression":"SEARCH('Namespace=\"EventShop\" MetricName=\"eventshop.messages.failed\" queue=\"q\"', 'Sum', 300)"}]]}}]}`}},
	} {
		if got := unpublishedMetrics(map[string]resource{"Bad": r}); len(got) != 1 {
			t.Errorf("%s: %q, want it refused", name, got)
		}
	}
}
