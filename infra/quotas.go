package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"
)

// resource is one resource of a synthesized template.
type resource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
}

// quota is one of AWS's limits on what a stack may declare, as AWS's
// documentation states it: the value, the page that says so, and how much
// of it the stack uses, by what it is counted on (a deployment group, a
// role, a function).
type quota struct {
	name  string
	limit int
	// budget is the share of limit the stack allows itself (1 unless set):
	// room to grow before the limit is a wall.
	budget float64
	doc    string
	use    func(res map[string]resource) map[string]int
}

// quotas are the limits the stack is held to, at synth (main) and in the
// tests, which also push a template over each one.
var quotas = []quota{
	{
		name: "alarms per CodeDeploy deployment group", limit: 10,
		doc: "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-codedeploy-deploymentgroup-alarmconfiguration.html",
		use: func(res map[string]resource) map[string]int {
			return each(res, "AWS::CodeDeploy::DeploymentGroup", func(p map[string]any) int {
				alarms, _ := p["AlarmConfiguration"].(map[string]any)
				list, _ := alarms["Alarms"].([]any)
				return len(list)
			})
		},
	},
	{
		name: "resources per stack", limit: 500, budget: 0.8,
		doc: "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html",
		use: func(res map[string]resource) map[string]int { return map[string]int{"the stack": len(res)} },
	},
	{
		// IAM counts no white space; a role's inline policies are the
		// AWS::IAM::Policy resources attached to it and its own Policies.
		name: "inline policy characters per role", limit: 10_240,
		doc: "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html",
		use: func(res map[string]resource) map[string]int {
			out := each(res, "AWS::IAM::Role", func(p map[string]any) int {
				n := 0
				for _, pol := range asList(p["Policies"]) {
					n += policyChars(pol.(map[string]any)["PolicyDocument"])
				}
				return n
			})
			for _, r := range res {
				if r.Type != "AWS::IAM::Policy" {
					continue
				}
				for _, role := range asList(r.Properties["Roles"]) {
					if ref, ok := role.(map[string]any)["Ref"].(string); ok {
						out[ref] += policyChars(r.Properties["PolicyDocument"])
					}
				}
			}
			return out
		},
	},
	{
		name: "bytes of a function's environment variables", limit: 4 * 1024,
		doc: "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html",
		use: func(res map[string]resource) map[string]int {
			return each(res, "AWS::Lambda::Function", func(p map[string]any) int {
				env, _ := p["Environment"].(map[string]any)
				vars, _ := env["Variables"].(map[string]any)
				n := 0
				for k, v := range vars {
					n += len(k) + len(resolve(v))
				}
				return n
			})
		},
	},
	{
		name: "widgets per dashboard", limit: 500,
		doc: "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html",
		use: func(res map[string]resource) map[string]int {
			return each(res, "AWS::CloudWatch::Dashboard", func(p map[string]any) int { return len(dashboard(p).Widgets) })
		},
	},
	{
		name: "metrics per dashboard", limit: 2_500,
		doc: "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html",
		use: func(res map[string]resource) map[string]int {
			return each(res, "AWS::CloudWatch::Dashboard", func(p map[string]any) int {
				n := 0
				for _, w := range dashboard(p).Widgets {
					n += len(w.Properties.Metrics)
				}
				return n
			})
		},
	},
	{
		name: "metrics per dashboard widget", limit: 500,
		doc: "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html",
		use: func(res map[string]resource) map[string]int {
			return each(res, "AWS::CloudWatch::Dashboard", func(p map[string]any) int {
				most := 0
				for _, w := range dashboard(p).Widgets {
					most = max(most, len(w.Properties.Metrics))
				}
				return most
			})
		},
	},
	{
		name: "metrics per metric-math alarm", limit: 10,
		doc: "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html",
		use: func(res map[string]resource) map[string]int {
			return each(res, "AWS::CloudWatch::Alarm", func(p map[string]any) int {
				n := 0
				for _, m := range asList(p["Metrics"]) {
					if _, ok := m.(map[string]any)["MetricStat"]; ok {
						n++
					}
				}
				return n
			})
		},
	},
	{
		name: "targets per EventBridge rule", limit: 5,
		doc: "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html",
		use: func(res map[string]resource) map[string]int {
			return each(res, "AWS::Events::Rule", func(p map[string]any) int { return len(asList(p["Targets"])) })
		},
	},
	{
		// Also refused when a rule's pattern is parsed (eventbus.ParsePattern).
		name: "characters of an event pattern", limit: 2_048,
		doc: "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html",
		use: func(res map[string]resource) map[string]int {
			return each(res, "AWS::Events::Rule", func(p map[string]any) int {
				b, _ := json.Marshal(p["EventPattern"])
				return utf8.RuneCount(b)
			})
		},
	},
}

// checkQuotas lists every use of res over a quota's budget, naming the
// quota, what is over it, and the page that states it.
func checkQuotas(res map[string]resource) []string {
	var over []string
	for _, q := range quotas {
		allowed := q.limit
		if q.budget != 0 {
			allowed = int(float64(q.limit) * q.budget)
		}
		use := q.use(res)
		for _, on := range slices.Sorted(maps.Keys(use)) {
			if use[on] > allowed {
				over = append(over, fmt.Sprintf("%s: %s uses %d, over %d (AWS's limit %d: %s)", q.name, on, use[on], allowed, q.limit, q.doc))
			}
		}
	}
	return over
}

// each measures every resource of typ by its properties.
func each(res map[string]resource, typ string, measure func(map[string]any) int) map[string]int {
	out := map[string]int{}
	for id, r := range res {
		if r.Type == typ {
			out[id] = measure(r.Properties)
		}
	}
	return out
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// intrinsicChars is what a value only CloudFormation knows (a Ref, an
// attribute) counts for: more than any name or ARN it makes for this
// stack's resources (the stack's name, the logical id and a random suffix,
// within an ARN's fixed parts).
const intrinsicChars = 128

// resolve is v as a string, each intrinsic function in it counted as
// intrinsicChars characters.
func resolve(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		if join, ok := v["Fn::Join"].([]any); ok && len(join) == 2 {
			sep, _ := join[0].(string)
			var parts []string
			for _, p := range asList(join[1]) {
				parts = append(parts, resolve(p))
			}
			return strings.Join(parts, sep)
		}
		return strings.Repeat("x", intrinsicChars)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// policyChars counts a policy document's characters as IAM does, without
// white space, intrinsics resolved as resolve counts them.
func policyChars(doc any) int {
	var count func(v any) int
	count = func(v any) int {
		switch v := v.(type) {
		case map[string]any:
			if _, ok := v["Fn::Join"]; ok || v["Ref"] != nil || v["Fn::GetAtt"] != nil {
				return len(resolve(v)) + 2 // its quotes
			}
			n := 2 // {}
			for k, x := range v {
				n += len(k) + 3 + count(x) // "k": and a comma
			}
			return n
		case []any:
			n := 2
			for _, x := range v {
				n += count(x) + 1
			}
			return n
		}
		b, _ := json.Marshal(v)
		return len(b)
	}
	return count(doc)
}

// dashboardBody is what the quotas read of a dashboard's body.
type dashboardBody struct {
	Widgets []struct {
		Properties struct {
			Metrics []any `json:"metrics"`
		} `json:"properties"`
	} `json:"widgets"`
}

// dashboard reads a dashboard's body, its intrinsics resolved as resolve
// counts them (they sit inside the body's strings).
func dashboard(p map[string]any) dashboardBody {
	var d dashboardBody
	if err := json.Unmarshal([]byte(resolve(p["DashboardBody"])), &d); err != nil {
		panic(fmt.Sprintf("a dashboard's body is not JSON: %v", err)) // the CDK writes it
	}
	return d
}
