package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodedeploy"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/jsii-runtime-go"

	"github.com/eventshop/eventshop/internal/awsenv"
	"github.com/eventshop/eventshop/internal/canary"
	"github.com/eventshop/eventshop/internal/services"
)

// LiveAlias is the alias every caller of a function invokes (API Gateway,
// the event source mappings, the user pool's trigger, an operator): never
// $LATEST. A deploy publishes a new version, and CodeDeploy moves the alias
// to it as the stack's Deployment says, back again if an alarm fires.
const LiveAlias = "live"

// Deployment is how a new version of the functions takes their traffic.
type Deployment string

// The deployments the stack offers.
const (
	// Canary sends a tenth of the traffic to the new version for five
	// minutes, then all of it; the default.
	Canary Deployment = "canary"
	// AllAtOnce moves all the traffic at once, for a development stage.
	AllAtOnce Deployment = "all-at-once"
)

func (d Deployment) config() awscodedeploy.ILambdaDeploymentConfig {
	switch d {
	case Canary, "":
		return awscodedeploy.LambdaDeploymentConfig_CANARY_10PERCENT_5MINUTES()
	case AllAtOnce:
		return awscodedeploy.LambdaDeploymentConfig_ALL_AT_ONCE()
	}
	panic(fmt.Sprintf("Deployment %q: want %q or %q", d, Canary, AllAtOnce))
}

// What makes the shop unwell, which pages an operator but never gates a
// deployment (the gates are canary.Gates): a route answering 5xx to a share
// of its requests, or slower than routeP99 at the 99th percentile, within
// one alarmPeriod.
const (
	alarmPeriod    = time.Minute
	routeErrorRate = 0.05
	routeP99       = 2 * time.Second
)

// lambdaFn is a function of the stack with its live alias, the service it
// belongs to (its dashboard) and the alarms that say its new version is bad.
type lambdaFn struct {
	awslambda.Function
	id      string
	kind    canary.Kind
	live    awslambda.Alias
	service string
	gates   []awscloudwatch.Alarm
}

// serviceOf names the service whose dashboard shows a function, from its
// construct id ("CatalogApiFunction": catalog). Not awsenv.Function's
// Service, which names the service a binary reports as: the five stream publishers run one
// binary ("outbox"), but each belongs on the dashboard of its table's
// service. The user pool's trigger and the operator's republish belong to
// the shop as a whole.
func serviceOf(id string) string {
	for _, s := range services.All {
		if strings.HasPrefix(id, s.Title()) {
			return s.Name
		}
	}
	return shopWide
}

// shopWide is the dashboard of what belongs to no one service: the user
// pool's trigger, the operator's republish.
const shopWide = "operations"

// live gives fn, a function of kind, its live alias on its current
// version, and the alarms that gate a deployment of it: canary.Gates of
// that version, the new one while a deployment runs.
func (s *shop) live(id string, kind canary.Kind, fn awslambda.Function) *lambdaFn {
	version := fn.CurrentVersion()
	f := &lambdaFn{Function: fn, id: id, kind: kind, service: serviceOf(id),
		live: awslambda.NewAlias(s.stack, jsii.String(id+"Live"), &awslambda.AliasProps{AliasName: jsii.String(LiveAlias), Version: version})}
	for _, g := range canary.Gates(kind, canary.Function{Name: *fn.FunctionName(), Alias: LiveAlias, Version: *version.Version()}) {
		f.gates = append(f.gates, s.alarmOf(f.service, id+g.ID, g))
	}
	s.fns = append(s.fns, f)
	return f
}

// alarmOf makes the CloudWatch alarm a describes, on service's dashboard.
func (s *shop) alarmOf(service, id string, a canary.Alarm) awscloudwatch.Alarm {
	period := awscdk.Duration_Seconds(jsii.Number(a.Period.Seconds()))
	metrics := map[string]awscloudwatch.IMetric{}
	for _, m := range a.Metrics {
		dims := map[string]*string{}
		for k, v := range m.Dimensions {
			dims[k] = jsii.String(v)
		}
		metrics[m.ID] = awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String(m.Namespace), MetricName: jsii.String(m.Name), DimensionsMap: &dims,
			Statistic: jsii.String(m.Statistic), Period: period,
		})
	}
	metric := metrics[a.Metrics[0].ID]
	if a.Expression != "" {
		metric = awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression: jsii.String(a.Expression), UsingMetrics: &metrics, Period: period,
		})
	}
	if a.MissingData != canary.NotBreaching {
		panic(fmt.Sprintf("alarm %s: missing data %q; the stack makes %q alarms", id, a.MissingData, canary.NotBreaching))
	}
	return s.newAlarm(service, id, a.Description, metric, a.Threshold, a.EvaluationPeriods)
}

// newAlarm makes an alarm that fires when metric reaches threshold in each
// of periods periods (no data is not a breach), and puts it on service's
// dashboard.
func (s *shop) newAlarm(service, id, description string, metric awscloudwatch.IMetric, threshold float64, periods int) awscloudwatch.Alarm {
	a := awscloudwatch.NewAlarm(s.stack, jsii.String(id), &awscloudwatch.AlarmProps{
		Metric:             metric,
		AlarmDescription:   jsii.String(description),
		Threshold:          jsii.Number(threshold),
		EvaluationPeriods:  jsii.Number(float64(periods)),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	s.alarms[service] = append(s.alarms[service], a)
	return a
}

// page makes an alarm about the shop as newAlarm does, on one period,
// which notifies the operators' topic: it describes the system, not a new
// version, so it gates no deployment (a stale one would block the fix).
func (s *shop) page(service, id, description string, metric awscloudwatch.IMetric, threshold float64) awscloudwatch.Alarm {
	a := s.newAlarm(service, id, description, metric, threshold, 1)
	a.AddAlarmAction(awscloudwatchactions.NewSnsAction(s.operators))
	return a
}

// show adds widgets to service's dashboard.
func (s *shop) show(service string, widgets ...awscloudwatch.IWidget) {
	s.widgets[service] = append(s.widgets[service], widgets...)
}

// routeID names a route in construct ids: "GET /product/{id}" is GetProductId.
func routeID(method, path string) string {
	return pascal(strings.ToLower(method) + "-" + nonWord.ReplaceAllString(path, "-"))
}

var nonWord = regexp.MustCompile(`[^A-Za-z0-9]+`)

// deploy gives every function a CodeDeploy deployment group that moves its
// live alias to a new version as d says, and rolls it back when one of the
// new version's gates fires, or the deployment fails or is stopped.
func (s *shop) deploy(d Deployment) {
	app := awscodedeploy.NewLambdaApplication(s.stack, jsii.String("Deployments"), &awscodedeploy.LambdaApplicationProps{
		ApplicationName: jsii.String("eventshop"),
	})
	for _, f := range s.fns {
		alarms := make([]interfacesawscloudwatch.IAlarmRef, len(f.gates))
		for i, a := range f.gates {
			alarms[i] = a
		}
		group := awscodedeploy.NewLambdaDeploymentGroup(s.stack, jsii.String(f.id+"Deployment"), &awscodedeploy.LambdaDeploymentGroupProps{
			Application:      app,
			Alias:            f.live,
			DeploymentConfig: d.config(),
			Alarms:           &alarms,
			AutoRollback: &awscodedeploy.AutoRollbackConfig{
				FailedDeployment: jsii.Bool(true), StoppedDeployment: jsii.Bool(true), DeploymentInAlarm: jsii.Bool(true),
			},
		})
		suppress(group, "AwsSolutions-IAM4", "CodeDeploy's own role for Lambda deployments is AWS's managed policy AWSCodeDeployRoleForLambdaLimited: it may only move aliases and invoke hooks named CodeDeployHook_*")
	}
}

// dashboards makes one dashboard per service (eventshop-<service>) with
// what s.show put on it and the service's alarms, and an overview
// (eventshop) with every alarm and the saga's outcomes.
func (s *shop) dashboards() {
	var all []interfacesawscloudwatch.IAlarmRef
	for _, service := range append(services.Names(), shopWide) {
		var alarms []interfacesawscloudwatch.IAlarmRef
		for _, a := range s.alarms[service] {
			alarms = append(alarms, a)
		}
		all = append(all, alarms...)
		rows := []*[]awscloudwatch.IWidget{{awscloudwatch.NewTextWidget(&awscloudwatch.TextWidgetProps{
			Markdown: jsii.String("# " + service + "\nIts API routes, queues and stream publisher; an alarm rolls a deployment of its functions back."), Width: jsii.Number(24), Height: jsii.Number(2),
		})}}
		if len(alarms) > 0 {
			rows = append(rows, &[]awscloudwatch.IWidget{awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
				Title: jsii.String(service + ": alarms"), Alarms: &alarms, Width: jsii.Number(24),
			})})
		}
		for w := range slices.Chunk(s.widgets[service], 3) {
			rows = append(rows, &w)
		}
		awscloudwatch.NewDashboard(s.stack, jsii.String(pascal(service)+"Dashboard"), &awscloudwatch.DashboardProps{
			DashboardName: jsii.String("eventshop-" + service),
			Widgets:       &rows,
		})
	}
	awscloudwatch.NewDashboard(s.stack, jsii.String("OverviewDashboard"), &awscloudwatch.DashboardProps{
		DashboardName: jsii.String("eventshop"),
		Widgets: &[]*[]awscloudwatch.IWidget{
			{awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
				Title: jsii.String("Every service's health: each alarm of the shop"), Alarms: &all, Width: jsii.Number(24), Height: jsii.Number(12),
			})},
			{sagaOutcomes()},
		},
	})
}

// sagaOutcomes charts the orders reaching each step of the saga, from the
// functions' EMF metrics (eventshop.orders.outcomes, by outcome and reason).
func sagaOutcomes() awscloudwatch.GraphWidget {
	return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
		Title: jsii.String("Orders by the step of the saga they reached"),
		Width: jsii.Number(24),
		Left: &[]awscloudwatch.IMetric{awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression: jsii.String(`SEARCH('Namespace="` + awsenv.MetricsNamespace + `" MetricName="eventshop.orders.outcomes"', 'Sum', 300)`),
			Label:      jsii.String("outcomes"),
			Period:     awscdk.Duration_Minutes(jsii.Number(5)),
		})},
	})
}
