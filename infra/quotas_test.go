package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// The synthesized stack is within every quota of AWS's the table lists.
func TestTheStackIsWithinAWSQuotas(t *testing.T) {
	_, res := template(t)
	for _, over := range checkQuotas(res) {
		t.Error(over)
	}
	for _, q := range quotas {
		most := 0
		for _, n := range q.use(res) {
			most = max(most, n)
		}
		if most == 0 {
			t.Errorf("%s: the stack uses none, so the check reads the wrong place", q.name)
		}
		t.Logf("%-45s %5d of %5d", q.name, most, q.limit)
	}
}

// A template pushed one over each quota fails the check, naming the quota:
// the checks can fail.
func TestAStackOverAQuotaFails(t *testing.T) {
	_, synthesized := template(t)
	first := func(res map[string]resource, typ string) resource {
		for _, r := range res {
			if r.Type == typ {
				return r
			}
		}
		t.Fatalf("no %s", typ)
		return resource{}
	}
	pushes := map[string]func(res map[string]resource){
		"alarms per CodeDeploy deployment group": func(res map[string]resource) {
			alarms := first(res, "AWS::CodeDeploy::DeploymentGroup").Properties["AlarmConfiguration"].(map[string]any)
			for len(alarms["Alarms"].([]any)) <= 10 {
				alarms["Alarms"] = append(alarms["Alarms"].([]any), map[string]any{"Name": "an eleventh"})
			}
		},
		"resources per stack": func(res map[string]resource) {
			for i := len(res); i <= 400; i++ {
				res[fmt.Sprint("Extra", i)] = resource{Type: "AWS::SQS::Queue"}
			}
		},
		"inline policy characters per role": func(res map[string]resource) {
			for id, r := range res {
				if r.Type == "AWS::IAM::Role" {
					res["BigPolicy"] = resource{Type: "AWS::IAM::Policy", Properties: map[string]any{
						"Roles":          []any{map[string]any{"Ref": id}},
						"PolicyDocument": map[string]any{"Statement": []any{map[string]any{"Resource": strings.Repeat("a", 10_240)}}},
					}}
					return
				}
			}
		},
		"bytes of a function's environment variables": func(res map[string]resource) {
			p := first(res, "AWS::Lambda::Function").Properties
			p["Environment"] = map[string]any{"Variables": map[string]any{"BIG": strings.Repeat("a", 4096)}}
		},
		"widgets per dashboard": func(res map[string]resource) {
			first(res, "AWS::CloudWatch::Dashboard").Properties["DashboardBody"] = `{"widgets":[` + strings.Repeat(`{"type":"text"},`, 500) + `{"type":"text"}]}`
		},
		"metrics per dashboard widget": func(res map[string]resource) {
			first(res, "AWS::CloudWatch::Dashboard").Properties["DashboardBody"] = `{"widgets":[{"properties":{"metrics":[` + strings.Repeat(`["N","M"],`, 500) + `["N","M"]]}}]}`
		},
		"metrics per dashboard": func(res map[string]resource) {
			w := `{"properties":{"metrics":[` + strings.Repeat(`["N","M"],`, 499) + `["N","M"]]}}`
			first(res, "AWS::CloudWatch::Dashboard").Properties["DashboardBody"] = `{"widgets":[` + strings.Repeat(w+",", 5) + w + `]}`
		},
		"metrics per metric-math alarm": func(res map[string]resource) {
			var metrics []any
			for range 11 {
				metrics = append(metrics, map[string]any{"MetricStat": map[string]any{}})
			}
			first(res, "AWS::CloudWatch::Alarm").Properties["Metrics"] = metrics
		},
		"targets per EventBridge rule": func(res map[string]resource) {
			p := first(res, "AWS::Events::Rule").Properties
			for len(p["Targets"].([]any)) <= 5 {
				p["Targets"] = append(p["Targets"].([]any), map[string]any{"Id": "another"})
			}
		},
		"characters of an event pattern": func(res map[string]resource) {
			first(res, "AWS::Events::Rule").Properties["EventPattern"] = map[string]any{"source": []any{strings.Repeat("x", 2048)}}
		},
	}
	for _, q := range quotas {
		t.Run(q.name, func(t *testing.T) {
			push, ok := pushes[q.name]
			if !ok {
				t.Fatal("no template pushed over this quota: add one")
			}
			res := clone(t, synthesized)
			push(res)
			over := checkQuotas(res)
			if len(over) != 1 || !strings.HasPrefix(over[0], q.name+":") || !strings.Contains(over[0], q.doc) {
				t.Fatalf("pushed over %q, the check says %q", q.name, over)
			}
		})
	}
}

func clone(t *testing.T, res map[string]resource) map[string]resource {
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]resource
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
