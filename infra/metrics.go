package main

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// published is a set of metrics a namespace publishes, each at exactly the
// dimension sets listed (a metric at any other set has no data: an alarm
// on it never fires), and the page that says so.
type published struct {
	namespace  string
	metrics    []string
	dimensions [][]string // each set sorted
	doc        string
}

// awsMetrics are the metrics of AWS's services the stack may alarm on or
// chart, as their documentation lists them.
var awsMetrics = []published{
	{
		namespace: "AWS/Lambda",
		metrics:   []string{"Invocations", "Errors", "Throttles", "Duration", "ConcurrentExecutions", "DeadLetterErrors", "DestinationDeliveryFailures"},
		dimensions: [][]string{{}, {"FunctionName"}, {"FunctionName", "Resource"},
			{"ExecutedVersion", "FunctionName", "Resource"}}, // ExecutedVersion: only for calls through an alias
		doc: "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html",
	},
	{
		namespace:  "AWS/Lambda",
		metrics:    []string{"IteratorAge"},
		dimensions: [][]string{{"FunctionName"}, {"FunctionName", "Resource"}, {"ExecutedVersion", "FunctionName", "Resource"}},
		doc:        "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html",
	},
	{
		namespace: "AWS/SQS",
		metrics: []string{"ApproximateAgeOfOldestMessage", "ApproximateNumberOfMessagesDelayed", "ApproximateNumberOfMessagesNotVisible",
			"ApproximateNumberOfMessagesVisible", "NumberOfEmptyReceives", "NumberOfMessagesDeleted", "NumberOfMessagesReceived",
			"NumberOfMessagesSent", "SentMessageSize"},
		dimensions: [][]string{{"QueueName"}},
		doc:        "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html",
	},
	{
		// An HTTP API's, not a REST API's (whose dimensions are ApiName,
		// Method, Resource and Stage): Route is the route key, "GET /product",
		// published once the stage's detailed metrics are on.
		namespace:  "AWS/ApiGateway",
		metrics:    []string{"4xx", "5xx", "Count", "IntegrationLatency", "Latency", "DataProcessed"},
		dimensions: [][]string{{"ApiId"}, {"ApiId", "Stage"}, {"ApiId", "Route", "Stage"}},
		doc:        "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html",
	},
	{
		namespace:  "AWS/DynamoDB",
		metrics:    []string{"ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits", "ReadThrottleEvents", "WriteThrottleEvents"},
		dimensions: [][]string{{"TableName"}, {"GlobalSecondaryIndexName", "TableName"}},
		doc:        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html",
	},
	{
		namespace:  "AWS/DynamoDB",
		metrics:    []string{"ThrottledRequests", "SuccessfulRequestLatency", "SystemErrors", "ReturnedItemCount"},
		dimensions: [][]string{{"Operation", "TableName"}},
		doc:        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html",
	},
	{
		namespace:  "AWS/DynamoDB",
		metrics:    []string{"UserErrors"},
		dimensions: [][]string{{}},
		doc:        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html",
	},
	{
		namespace:  "AWS/Events",
		metrics:    []string{"Invocations", "FailedInvocations", "MatchedEvents", "TriggeredRules", "InvocationsSentToDlq", "InvocationsFailedToBeSentToDlq"},
		dimensions: [][]string{{}, {"RuleName"}, {"EventBusName", "RuleName"}},
		doc:        "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html",
	},
}

// emfMetricsJSON lists what the functions print as EMF, in the shop's
// namespace: written from their output by cmd/lambda's TestLambdaArtifacts.
//
//go:embed emf-metrics.json
var emfMetricsJSON []byte

// shopMetrics are the metrics of emfMetricsJSON, and those the template's
// own metric filters make of the functions' logs.
func shopMetrics(res map[string]resource) []published {
	var printed []struct {
		Namespace  string   `json:"namespace"`
		Metric     string   `json:"metric"`
		Dimensions []string `json:"dimensions"`
	}
	if err := json.Unmarshal(emfMetricsJSON, &printed); err != nil {
		panic(fmt.Sprintf("emf-metrics.json: %v", err)) // committed, and read by a test
	}
	var out []published
	for _, p := range printed {
		out = append(out, published{namespace: p.Namespace, metrics: []string{p.Metric}, dimensions: [][]string{slices.Sorted(slices.Values(p.Dimensions))},
			doc: "emf-metrics.json"})
	}
	for id, r := range res {
		if r.Type != "AWS::Logs::MetricFilter" {
			continue
		}
		for _, t := range asList(r.Properties["MetricTransformations"]) {
			t := t.(map[string]any)
			var dims []string
			for _, d := range asList(t["Dimensions"]) {
				dims = append(dims, d.(map[string]any)["Key"].(string))
			}
			slices.Sort(dims)
			out = append(out, published{namespace: resolve(t["MetricNamespace"]), metrics: []string{resolve(t["MetricName"])},
				dimensions: [][]string{dims}, doc: "metric filter " + id})
		}
	}
	return out
}

// watched is a metric an alarm or a widget names: its namespace, name and
// dimensions, and whether it is a search, whose dimensions need only be
// among a published set's.
type watched struct {
	on, namespace, metric string
	dimensions            []string
	search                bool
}

// unpublishedMetrics lists every metric an alarm or dashboard widget of res
// names that is not published at the dimensions it names.
func unpublishedMetrics(res map[string]resource) []string {
	table := append(slices.Clone(awsMetrics), shopMetrics(res)...)
	var out []string
	for _, w := range watchedMetrics(res) {
		if !isPublished(table, w) {
			out = append(out, fmt.Sprintf("%s watches %s %s at {%s}, which is not published there", w.on, w.namespace, w.metric, strings.Join(w.dimensions, ", ")))
		}
	}
	slices.Sort(out)
	return out
}

func isPublished(table []published, w watched) bool {
	for _, p := range table {
		if p.namespace != w.namespace || !slices.Contains(p.metrics, w.metric) {
			continue
		}
		for _, set := range p.dimensions {
			if slices.Equal(set, w.dimensions) {
				return true
			}
			if w.search && !slices.ContainsFunc(w.dimensions, func(d string) bool { return !slices.Contains(set, d) }) {
				return true
			}
		}
	}
	return false
}

// watchedMetrics lists the metrics res's alarms (single-metric and metric
// math) and dashboard widgets (metric arrays and SEARCH expressions) name.
func watchedMetrics(res map[string]resource) []watched {
	var out []watched
	dimNames := func(dims any) []string {
		var names []string
		for _, d := range asList(dims) {
			names = append(names, d.(map[string]any)["Name"].(string))
		}
		slices.Sort(names)
		return names
	}
	for id, r := range res {
		switch r.Type {
		case "AWS::CloudWatch::Alarm":
			p := r.Properties
			if name, ok := p["MetricName"].(string); ok {
				out = append(out, watched{on: "alarm " + id, namespace: resolve(p["Namespace"]), metric: name, dimensions: dimNames(p["Dimensions"])})
			}
			for _, m := range asList(p["Metrics"]) {
				stat, ok := m.(map[string]any)["MetricStat"].(map[string]any)
				if !ok {
					continue
				}
				metric := stat["Metric"].(map[string]any)
				out = append(out, watched{on: "alarm " + id, namespace: resolve(metric["Namespace"]), metric: resolve(metric["MetricName"]), dimensions: dimNames(metric["Dimensions"])})
			}
		case "AWS::CloudWatch::Dashboard":
			for _, w := range dashboard(r.Properties).Widgets {
				for _, m := range w.Properties.Metrics {
					out = append(out, widgetMetrics("dashboard "+id, m)...)
				}
			}
		}
	}
	return out
}

// searchTerm is one key="value" of a SEARCH expression's search string.
var searchTerm = regexp.MustCompile(`([A-Za-z0-9_./-]+)="([^"]*)"`)

// widgetMetrics reads one entry of a graph widget's metrics: an array
// [namespace, name, dimension, value, ..., {options}], or an object with a
// math expression, of which its SEARCH's terms.
func widgetMetrics(on string, m any) []watched {
	switch m := m.(type) {
	case []any:
		var strs []string
		var expr string
		for _, x := range m {
			switch x := x.(type) {
			case string:
				strs = append(strs, x)
			case map[string]any:
				expr, _ = x["expression"].(string)
			}
		}
		if expr != "" {
			return searchMetrics(on, expr)
		}
		if len(strs) < 2 {
			return nil
		}
		var dims []string
		for i := 2; i+1 < len(strs); i += 2 {
			dims = append(dims, strs[i])
		}
		slices.Sort(dims)
		return []watched{{on: on, namespace: strs[0], metric: strs[1], dimensions: dims}}
	case map[string]any:
		expr, _ := m["expression"].(string)
		return searchMetrics(on, expr)
	}
	return nil
}

func searchMetrics(on, expr string) []watched {
	var out []watched
	for _, call := range strings.Split(expr, "SEARCH(")[1:] {
		w := watched{on: on, search: true}
		for _, t := range searchTerm.FindAllStringSubmatch(call, -1) {
			switch t[1] {
			case "Namespace":
				w.namespace = t[2]
			case "MetricName":
				w.metric = t[2]
			default:
				w.dimensions = append(w.dimensions, t[1])
			}
		}
		slices.Sort(w.dimensions)
		out = append(out, w)
	}
	return out
}
