package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/jsii-runtime-go"

	"github.com/eventshop/eventshop/internal/auth"
	"github.com/eventshop/eventshop/internal/awsenv"
	basketdynamo "github.com/eventshop/eventshop/internal/basket/dynamo"
	baskethttp "github.com/eventshop/eventshop/internal/basket/httpapi"
	catalogdynamo "github.com/eventshop/eventshop/internal/catalog/dynamo"
	cataloghttp "github.com/eventshop/eventshop/internal/catalog/httpapi"
	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
	idemdynamo "github.com/eventshop/eventshop/internal/idempotency/dynamo"
	inventorydynamo "github.com/eventshop/eventshop/internal/inventory/dynamo"
	inventoryhttp "github.com/eventshop/eventshop/internal/inventory/httpapi"
	orderingdynamo "github.com/eventshop/eventshop/internal/ordering/dynamo"
	orderinghttp "github.com/eventshop/eventshop/internal/ordering/httpapi"
	"github.com/eventshop/eventshop/internal/outbox/outboxitem"
	"github.com/eventshop/eventshop/internal/outbox/streams"
	paymentdynamo "github.com/eventshop/eventshop/internal/payment/dynamo"
	"github.com/eventshop/eventshop/internal/rest"
	"github.com/eventshop/eventshop/internal/services"
)

var (
	synthOnce sync.Once
	tmpl      assertions.Template
	resources map[string]resource
)

// template synthesizes the stack once, with placeholder binaries: the
// assertions are about the template, and make lambdas builds the real ones.
func template(t *testing.T) (assertions.Template, map[string]resource) {
	t.Helper()
	synthOnce.Do(func() {
		assets, err := os.MkdirTemp("", "assets")
		if err != nil {
			t.Fatal(err)
		}
		writeAssets(t, assets)
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
		stack := NewShopStack(app, "Test", &ShopStackProps{AssetDir: assets})
		tmpl = assertions.Template_FromStack(stack, nil)
		b, _ := json.Marshal(tmpl.ToJSON())
		var doc struct{ Resources map[string]resource }
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		resources = doc.Resources
	})
	if tmpl == nil {
		t.Fatal("synth failed")
	}
	return tmpl, resources
}

func ofType(res map[string]resource, typ string) map[string]resource {
	out := map[string]resource{}
	for id, r := range res {
		if r.Type == typ {
			out[id] = r
		}
	}
	return out
}

// logicalID finds the one resource of typ whose id starts with prefix.
func logicalID(t *testing.T, res map[string]resource, typ, prefix string) string {
	t.Helper()
	var found []string
	for id, r := range res {
		if r.Type == typ && strings.HasPrefix(id, prefix) {
			found = append(found, id)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s %s*: found %v", typ, prefix, found)
	}
	return found[0]
}

// shopFunctions are the stack's own functions (the Go binaries), not the
// one the CDK adds to copy the storefront's files.
func shopFunctions(res map[string]resource) map[string]resource {
	out := map[string]resource{}
	for id, fn := range ofType(res, "AWS::Lambda::Function") {
		if fn.Properties["Handler"] == "bootstrap" {
			out[id] = fn
		}
	}
	return out
}

func TestFunctions(t *testing.T) {
	_, res := template(t)
	fns := shopFunctions(res)
	if len(fns) != len(Functions)+4 { // the publisher runs five times (catalog, basket, ordering, inventory, payment)
		t.Fatalf("%d functions, want %d", len(fns), len(Functions)+4)
	}
	if all := len(ofType(res, "AWS::Lambda::Function")); all != len(fns)+1 {
		t.Fatalf("%d functions in all, want the shop's and the CDK's bucket deployment", all)
	}
	for id, fn := range fns {
		for k, want := range map[string]any{
			"Runtime": "provided.al2023", "Architectures": []any{"arm64"}, "MemorySize": float64(memoryMB),
		} {
			if mustJSON(fn.Properties[k]) != mustJSON(want) {
				t.Errorf("%s: %s = %v, want %v", id, k, fn.Properties[k], want)
			}
		}
	}
	for id, fn := range fns {
		if lc, _ := fn.Properties["LoggingConfig"].(map[string]any); lc["LogFormat"] != "JSON" {
			t.Errorf("%s logs %v, want JSON", id, lc)
		}
		if fn.Properties["Timeout"] == nil {
			t.Errorf("%s has no timeout", id)
		}
		if c, _ := fn.Properties["ReservedConcurrentExecutions"].(float64); c < 1 {
			t.Errorf("%s has no maximum concurrency", id)
		}
	}
}

func TestTablesMatchTheAdapters(t *testing.T) {
	tm, res := template(t)
	if n := len(ofType(res, "AWS::DynamoDB::Table")); n != 9 {
		t.Fatalf("%d tables, want 9", n)
	}
	tm.AllResourcesProperties(jsii.String("AWS::DynamoDB::Table"), map[string]any{
		"BillingMode":                      "PAY_PER_REQUEST",
		"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
	})
	for _, in := range []struct {
		id     string
		keys   []string
		stream bool
	}{
		{"ProductTable", keys(catalogdynamo.TableInput("x").KeySchema), true},
		{"BasketTable", keys(basketdynamo.BasketTableInput("x").KeySchema), true},
		{"PriceTable", keys(basketdynamo.PriceTableInput("x").KeySchema), false},
		{"OrderTable", keys(orderingdynamo.TableInput("x").KeySchema), true},
		{"IdempotencyTable", keys(idemdynamo.TableInput("x").KeySchema), false},
		{"ParkedRecordsTable", keys(streams.ParkingTableInput("x").KeySchema), false},
		{"InventoryTable", keys(inventorydynamo.TableInput("x").KeySchema), false},
		{"ReservationTable", keys(inventorydynamo.ReservationTableInput("x").KeySchema), true},
		{"PaymentTable", keys(paymentdynamo.TableInput("x").KeySchema), true},
	} {
		table := res[logicalID(t, res, "AWS::DynamoDB::Table", in.id)]
		var got []string
		for _, k := range table.Properties["KeySchema"].([]any) {
			m := k.(map[string]any)
			got = append(got, m["AttributeName"].(string)+"/"+m["KeyType"].(string))
		}
		if !slices.Equal(got, in.keys) {
			t.Errorf("%s keys %v, adapter uses %v", in.id, got, in.keys)
		}
		spec, _ := table.Properties["StreamSpecification"].(map[string]any)
		if in.stream != (spec != nil && spec["StreamViewType"] == "NEW_IMAGE") {
			t.Errorf("%s stream = %v, want NEW_IMAGE: %v", in.id, spec, in.stream)
		}
	}
	tm.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), map[string]any{
		"KeySchema":               []any{map[string]any{"AttributeName": idemdynamo.KeyScope, "KeyType": "HASH"}, map[string]any{"AttributeName": idemdynamo.KeyKey, "KeyType": "RANGE"}},
		"TimeToLiveSpecification": map[string]any{"AttributeName": idemdynamo.TTLAttribute, "Enabled": true},
	})
	tm.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), map[string]any{
		"TimeToLiveSpecification": map[string]any{"AttributeName": catalogdynamo.TTLAttribute, "Enabled": true},
		"GlobalSecondaryIndexes": []any{map[string]any{
			"IndexName": catalogdynamo.CategoryIndex,
			"KeySchema": []any{
				map[string]any{"AttributeName": "category", "KeyType": "HASH"},
				map[string]any{"AttributeName": "id", "KeyType": "RANGE"},
			},
			"Projection": map[string]any{"ProjectionType": "ALL"},
		}},
	})
}

func keys(ks []ddbtypes.KeySchemaElement) []string {
	var out []string
	for _, k := range ks {
		out = append(out, *k.AttributeName+"/"+string(k.KeyType))
	}
	return out
}

func TestBusArchiveAndRules(t *testing.T) {
	tm, res := template(t)
	tm.HasResourceProperties(jsii.String("AWS::Events::EventBus"), map[string]any{"Name": "SwnEventBus"})
	tm.ResourceCountIs(jsii.String("AWS::Events::Archive"), jsii.Number(1))
	tm.HasResourceProperties(jsii.String("AWS::Events::Archive"), map[string]any{"RetentionDays": DefaultArchiveDays})
	tm.HasOutput(jsii.String("EventArchiveArn"), map[string]any{})
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	week := assertions.Template_FromStack(NewShopStack(app, "Week", &ShopStackProps{AssetDir: assetDir(t), ArchiveDays: 7}), nil)
	week.HasResourceProperties(jsii.String("AWS::Events::Archive"), map[string]any{"RetentionDays": 7})
	rules := ofType(res, "AWS::Events::Rule")
	if len(rules) != len(eventbus.Rules()) {
		t.Fatalf("%d rules, want one per definition (%d)", len(rules), len(eventbus.Rules()))
	}
	for _, r := range eventbus.Rules() {
		var want map[string]any
		if err := json.Unmarshal([]byte(r.Pattern.JSON()), &want); err != nil {
			t.Fatal(err)
		}
		id := logicalID(t, res, "AWS::Events::Rule", r.Name)
		if rules[id].Properties["Name"] != r.Name {
			t.Errorf("rule %s is named %v on AWS", r.Name, rules[id].Properties["Name"])
		}
		got, _ := json.Marshal(rules[id].Properties["EventPattern"])
		wantJSON, _ := json.Marshal(want)
		if string(got) != string(wantJSON) {
			t.Errorf("rule %s pattern %s, Go definition %s", r.Name, got, wantJSON)
		}
		queue := logicalID(t, res, "AWS::SQS::Queue", pascal(r.Queue)+"Queue")
		targets, _ := json.Marshal(rules[id].Properties["Targets"])
		if !strings.Contains(string(targets), queue) {
			t.Errorf("rule %s targets %s, want queue %s", r.Name, targets, queue)
		}
	}
}

func TestQueuesAndConsumers(t *testing.T) {
	_, res := template(t)
	mappings := ofType(res, "AWS::Lambda::EventSourceMapping")
	for _, r := range eventbus.Rules() {
		q := res[logicalID(t, res, "AWS::SQS::Queue", pascal(r.Queue)+"Queue")]
		redrive := q.Properties["RedrivePolicy"].(map[string]any)
		if redrive["maxReceiveCount"] != float64(r.MaxReceives) || r.MaxReceives != 5 {
			t.Errorf("%s redrive %v, want maxReceiveCount %d", r.Queue, redrive, r.MaxReceives)
		}
		if !strings.Contains(mustJSON(redrive["deadLetterTargetArn"]), pascal(r.Queue)+"DeadLetterQueue") {
			t.Errorf("%s redrives to %v", r.Queue, redrive["deadLetterTargetArn"])
		}
		var mapping map[string]any
		for _, m := range mappings {
			if strings.Contains(mustJSON(m.Properties["EventSourceArn"]), pascal(r.Queue)+"Queue") {
				mapping = m.Properties
			}
		}
		if mapping == nil {
			t.Fatalf("no event source mapping reads %s", r.Queue)
		}
		fn := res[invoked(t, res, mapping["FunctionName"])]
		timeout := fn.Properties["Timeout"].(float64)
		if vt := q.Properties["VisibilityTimeout"].(float64); vt < 6*timeout {
			t.Errorf("%s visibility timeout %vs < 6 × consumer timeout %vs", r.Queue, vt, timeout)
		}
		if mustJSON(mapping["FunctionResponseTypes"]) != `["ReportBatchItemFailures"]` || mapping["BatchSize"] != float64(r.BatchSize) {
			t.Errorf("%s mapping %v", r.Queue, mapping)
		}
		if sc, _ := mapping["ScalingConfig"].(map[string]any); sc["MaximumConcurrency"] != float64(consumerMaxConc) {
			t.Errorf("%s mapping has no maximum concurrency: %v", r.Queue, mapping["ScalingConfig"])
		}
	}
}

func TestStreamPublishers(t *testing.T) {
	_, res := template(t)
	var streams int
	for _, m := range ofType(res, "AWS::Lambda::EventSourceMapping") {
		p := m.Properties
		if !strings.Contains(mustJSON(p["EventSourceArn"]), "StreamArn") {
			continue
		}
		streams++
		// No retry limit and no maximum age: a failing record is retried until
		// the publisher parks it, never discarded by the event source.
		if p["BisectBatchOnFunctionError"] != true || (p["MaximumRetryAttempts"] != nil && p["MaximumRetryAttempts"] != float64(-1)) ||
			(p["MaximumRecordAgeInSeconds"] != nil && p["MaximumRecordAgeInSeconds"] != float64(-1)) || p["ParallelizationFactor"] != float64(1) ||
			mustJSON(p["FunctionResponseTypes"]) != `["ReportBatchItemFailures"]` || p["DestinationConfig"] == nil {
			t.Errorf("stream mapping %v", p)
		}
		// Only records whose new image carries events invoke the publisher.
		want := `{"Filters":[{"Pattern":"{\"dynamodb\":{\"NewImage\":{\"` + outboxitem.Attribute + `\":{\"S\":[{\"exists\":true}]}}}}"}]}`
		if got := mustJSON(p["FilterCriteria"]); got != want {
			t.Errorf("stream mapping filter %s, want %s", got, want)
		}
	}
	if streams != 5 {
		t.Fatalf("%d stream mappings, want 5 (products, baskets, orders, reservations, payments)", streams)
	}
	// Every service that publishes an event has its publisher.
	fns := shopFunctions(res)
	for _, c := range events.Contracts() {
		prefix := strings.ToUpper(c.Publisher[:1]) + c.Publisher[1:] + "PublisherFunction"
		if !slices.ContainsFunc(slices.Collect(maps.Keys(fns)), func(id string) bool { return strings.HasPrefix(id, prefix) }) {
			t.Errorf("%s is published by %s, which has no %s in the stack", c.DetailType, c.Publisher, prefix)
		}
	}
}

func TestAlarms(t *testing.T) {
	_, res := template(t)
	queues := ofType(res, "AWS::SQS::Queue")
	alarmed := map[string]bool{}
	var parked, iteratorAge int
	for id, a := range ofType(res, "AWS::CloudWatch::Alarm") {
		p := a.Properties
		switch p["MetricName"] {
		case "ApproximateNumberOfMessagesVisible":
			if p["Threshold"] != float64(1) {
				t.Errorf("%s: threshold %v", id, p["Threshold"])
			}
			alarmed[mustJSON(p["Dimensions"])] = true
		case "IteratorAge":
			iteratorAge++
			if p["Threshold"] != float64(iteratorAgeAlarm.Milliseconds()) || p["Statistic"] != "Maximum" {
				t.Errorf("%s: %v", id, p)
			}
		default:
			if p["Namespace"] == "EventShop" && strings.HasSuffix(p["MetricName"].(string), "ParkedRecords") {
				parked++
			}
		}
	}
	// Every queue nothing consumes (the dead-letter queues of the consumer
	// queues and of the rules' targets, and the stream failure queues) alarms.
	for id, q := range queues {
		dlq := strings.Contains(id, "DeadLetterQueue") || strings.Contains(id, "Undelivered") || strings.Contains(id, "Failures")
		if dlq && !strings.Contains(fmt.Sprint(alarmed), id) {
			t.Errorf("queue %s has no alarm (%v)", id, q.Properties)
		}
	}
	if parked != 5 || iteratorAge != 5 {
		t.Errorf("%d parked-record alarms and %d iterator-age alarms, want one of each per publisher", parked, iteratorAge)
	}
	if len(ofType(res, "AWS::Logs::MetricFilter")) != 5 {
		t.Errorf("want a metric filter counting parked records on each publisher's log")
	}
}

func TestEveryRuleTargetHasADeadLetterQueue(t *testing.T) {
	_, res := template(t)
	for _, r := range eventbus.Rules() {
		rule := ofType(res, "AWS::Events::Rule")[logicalID(t, res, "AWS::Events::Rule", r.Name)]
		for _, target := range rule.Properties["Targets"].([]any) {
			tg := target.(map[string]any)
			dlq := mustJSON(tg["DeadLetterConfig"])
			policy, _ := tg["RetryPolicy"].(map[string]any)
			if !strings.Contains(dlq, logicalID(t, res, "AWS::SQS::Queue", pascal(r.Queue)+"UndeliveredQueue")) ||
				policy["MaximumRetryAttempts"] != float64(ruleRetries) || policy["MaximumEventAgeInSeconds"] != ruleMaxEventAge.Seconds() {
				t.Errorf("rule %s target %v", r.Name, tg)
			}
		}
	}
}

func TestRoutes(t *testing.T) {
	_, res := template(t)
	var got []string
	for _, r := range ofType(res, "AWS::ApiGatewayV2::Route") {
		got = append(got, r.Properties["RouteKey"].(string))
	}
	var want []string
	for _, routes := range [][]rest.Route{cataloghttp.Routes(), baskethttp.Routes(), orderinghttp.Routes(), inventoryhttp.Routes()} {
		for _, r := range routes {
			want = append(want, r.Method+" "+r.Path)
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Fatalf("API routes %v, handlers serve %v", got, want)
	}
	tm, _ := template(t)
	tm.HasOutput(jsii.String("ApiUrl"), map[string]any{})
	tm.HasOutput(jsii.String("UserPoolClientId"), map[string]any{})
	tm.AllResourcesProperties(jsii.String("AWS::ApiGatewayV2::Integration"), map[string]any{"PayloadFormatVersion": "2.0", "IntegrationType": "AWS_PROXY"})
}

// roleStatements lists the statements of every policy attached to fn's role.
func roleStatements(res map[string]resource, fn resource) []map[string]any {
	role := fn.Properties["Role"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
	var out []map[string]any
	for _, p := range ofType(res, "AWS::IAM::Policy") {
		if !strings.Contains(mustJSON(p.Properties["Roles"]), `"`+role+`"`) {
			continue
		}
		for _, st := range p.Properties["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			out = append(out, st.(map[string]any))
		}
	}
	return out
}

// grantedActions returns, per function (by logical id), the DynamoDB actions
// its role allows on each table (by logical id; a table's indexes count as
// the table), and every action it allows on a resource that is no table.
func grantedActions(t *testing.T, res map[string]resource) (onTables map[string]map[string][]string, elsewhere map[string][]string) {
	t.Helper()
	tables := ofType(res, "AWS::DynamoDB::Table")
	onTables, elsewhere = map[string]map[string][]string{}, map[string][]string{}
	for fnID, fn := range shopFunctions(res) {
		onTables[fnID] = map[string][]string{}
		for _, st := range roleStatements(res, fn) {
			var actions []string
			switch a := st["Action"].(type) {
			case string:
				actions = []string{a}
			case []any:
				for _, x := range a {
					actions = append(actions, x.(string))
				}
			}
			on := mustJSON(st["Resource"])
			matched := false
			for table := range tables {
				if strings.Contains(on, `"`+table+`"`) && !strings.Contains(on, "StreamArn") {
					matched = true
					onTables[fnID][table] = append(onTables[fnID][table], actions...)
				}
			}
			if !matched {
				elsewhere[fnID] = append(elsewhere[fnID], actions...)
			}
		}
		for table, actions := range onTables[fnID] {
			slices.Sort(actions)
			onTables[fnID][table] = slices.Compact(actions)
		}
	}
	return onTables, elsewhere
}

// Each function may call, on each table, exactly the actions its adapters
// call: no wildcard, no Scan or BatchWriteItem it does not use, no table it
// does not read or write.
func TestLeastPrivilege(t *testing.T) {
	_, res := template(t)
	table := func(prefix string) string { return logicalID(t, res, "AWS::DynamoDB::Table", prefix) }
	products, baskets, prices, orders := table("ProductTable"), table("BasketTable"), table("PriceTable"), table("OrderTable")
	idem, parked, stock, reservations, pays := table("IdempotencyTable"), table("ParkedRecordsTable"), table("InventoryTable"), table("ReservationTable"), table("PaymentTable")
	idemActions := []string{"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}
	parks := map[string][]string{parked: {"dynamodb:PutItem"}}
	want := map[string]map[string][]string{
		"CatalogApiFunction": {products: {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:Scan"}, idem: idemActions},
		"BasketApiFunction": {baskets: {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Scan", "dynamodb:UpdateItem"},
			prices: {"dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem"}, idem: idemActions},
		"BasketConsumerFunction":   {prices: {"dynamodb:PutItem"}},
		"OrderingApiFunction":      {orders: {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"}},
		"OrderingConsumerFunction": {orders: {"dynamodb:GetItem", "dynamodb:PutItem"}},
		"InventoryApiFunction":     {stock: {"dynamodb:GetItem", "dynamodb:UpdateItem"}},
		"InventoryConsumerFunction": {stock: {"dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem", "dynamodb:UpdateItem"},
			reservations: {"dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}},
		"PaymentConsumerFunction":    {pays: {"dynamodb:GetItem", "dynamodb:PutItem"}},
		"CatalogPublisherFunction":   parks,
		"BasketPublisherFunction":    parks,
		"OrderingPublisherFunction":  parks,
		"InventoryPublisherFunction": parks,
		"PaymentPublisherFunction":   parks,
		"OutboxRepublishFunction":    {parked: {"dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:Scan"}},
		"PreSignUpFunction":          {},
	}
	onTables, elsewhere := grantedActions(t, res)
	if len(onTables) != len(want) {
		t.Errorf("%d functions, %d expected", len(onTables), len(want))
	}
	for prefix, w := range want {
		fn := logicalID(t, res, "AWS::Lambda::Function", prefix)
		if got := onTables[fn]; mustJSON(got) != mustJSON(w) {
			t.Errorf("%s may call %v on tables; want %v", prefix, got, w)
		}
		putsEvents := strings.Contains(prefix, "Publisher") || strings.Contains(prefix, "Republish")
		for _, a := range elsewhere[fn] {
			switch {
			case strings.Contains(a, "*"):
				t.Errorf("%s is allowed %s", prefix, a)
			case a == "events:PutEvents" && putsEvents:
			case strings.HasPrefix(a, "logs:"):
			case strings.HasPrefix(a, "dynamodb:") && strings.Contains(prefix, "Publisher") &&
				slices.Contains([]string{"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"}, a):
			case strings.HasPrefix(a, "sqs:") && (strings.Contains(prefix, "Consumer") || strings.Contains(prefix, "Publisher")):
			default:
				t.Errorf("%s is allowed %s elsewhere than on its tables", prefix, a)
			}
		}
	}
}

// Each publisher may put only its table's service's sources on the bus
// (the events:source condition key, which EventBridge supports on
// PutEvents: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-conditions.html),
// the republish every source of the shop's, and the same sources are the
// ones each function's environment names (awsenv.EventSources).
func TestPublishersPutOnlyTheirSources(t *testing.T) {
	_, res := template(t)
	want := map[string][]string{"OutboxRepublishFunction": events.SourcesOf()}
	for _, s := range services.Names() {
		want[strings.ToUpper(s[:1])+s[1:]+"PublisherFunction"] = events.SourcesOf(s)
	}
	for prefix, sources := range want {
		fn := logicalID(t, res, "AWS::Lambda::Function", prefix)
		var puts []map[string]any
		for _, st := range roleStatements(res, res[fn]) {
			if strings.Contains(mustJSON(st["Action"]), "events:PutEvents") {
				puts = append(puts, st)
			}
		}
		wantCond := mustJSON(map[string]any{"StringEquals": map[string]any{"events:source": sources}})
		if len(puts) != 1 || mustJSON(puts[0]["Condition"]) != wantCond {
			t.Errorf("%s may put events per %s; want only under %s", prefix, mustJSON(puts), wantCond)
		}
		env := res[fn].Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
		if env[awsenv.EventSources] != strings.Join(sources, ",") {
			t.Errorf("%s's %s is %v, want %s", prefix, awsenv.EventSources, env[awsenv.EventSources], strings.Join(sources, ","))
		}
	}
}

// Each function's role writes its own log group and no other, and carries
// no managed policy (AWSLambdaBasicExecutionRole grants every log group).
func TestEachFunctionLogsToItsOwnGroup(t *testing.T) {
	_, res := template(t)
	for fnID, fn := range shopFunctions(res) {
		role := fn.Properties["Role"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
		if managed := res[role].Properties["ManagedPolicyArns"]; managed != nil {
			t.Errorf("%s's role has managed policies %v", fnID, managed)
		}
		group := fn.Properties["LoggingConfig"].(map[string]any)["LogGroup"]
		groupID := group.(map[string]any)["Ref"].(string)
		var logStatements []string
		for _, st := range roleStatements(res, fn) {
			if strings.Contains(mustJSON(st["Action"]), "logs:") {
				logStatements = append(logStatements, mustJSON(st))
			}
		}
		if len(logStatements) != 1 || !strings.Contains(logStatements[0], `"`+groupID+`"`) || !strings.Contains(logStatements[0], "logs:PutLogEvents") ||
			strings.Contains(logStatements[0], `"*"`) {
			t.Errorf("%s (log group %s) may write logs per %v", fnID, groupID, logStatements)
		}
	}
}

// AWS asks that a function's reserved concurrency be at least the sum of
// the maximum concurrency of its SQS event sources: otherwise receives are
// throttled, and a throttled receive counts towards a message's maxReceives.
func TestConsumersAreNeverThrottledByTheirOwnSettings(t *testing.T) {
	_, res := template(t)
	sum := map[string]float64{}
	for _, m := range ofType(res, "AWS::Lambda::EventSourceMapping") {
		if !strings.Contains(mustJSON(m.Properties["EventSourceArn"]), "Queue") {
			continue
		}
		sc, _ := m.Properties["ScalingConfig"].(map[string]any)
		max, ok := sc["MaximumConcurrency"].(float64)
		if !ok {
			t.Errorf("an SQS event source without a maximum concurrency: %v", m.Properties)
		}
		sum[invoked(t, res, m.Properties["FunctionName"])] += max
	}
	if len(sum) != 4 {
		t.Fatalf("%d functions read queues, want 4", len(sum))
	}
	for fnID, fn := range shopFunctions(res) {
		reserved, _ := fn.Properties["ReservedConcurrentExecutions"].(float64)
		if reserved < sum[fnID] {
			t.Errorf("%s: reserved concurrency %v, its queues' event sources may invoke %v at once", fnID, reserved, sum[fnID])
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestAuthorizerOnEveryProtectedRoute(t *testing.T) {
	tm, res := template(t)
	authorizers := ofType(res, "AWS::ApiGatewayV2::Authorizer")
	if len(authorizers) != 1 {
		t.Fatalf("%d authorizers, want 1", len(authorizers))
	}
	var authorizerID string
	for id, a := range authorizers {
		authorizerID = id
		if a.Properties["AuthorizerType"] != "JWT" || !strings.Contains(mustJSON(a.Properties["JwtConfiguration"]), "StorefrontClient") ||
			!strings.Contains(mustJSON(a.Properties["JwtConfiguration"]), "cognito-idp") {
			t.Fatalf("authorizer %v is not a JWT authorizer for the user pool's client", a.Properties)
		}
	}
	access := map[string]auth.Access{}
	for _, routes := range [][]rest.Route{cataloghttp.Routes(), baskethttp.Routes(), orderinghttp.Routes(), inventoryhttp.Routes()} {
		for _, r := range routes {
			access[r.Method+" "+r.Path] = r.Access
		}
	}
	public := 0
	for _, r := range ofType(res, "AWS::ApiGatewayV2::Route") {
		key := r.Properties["RouteKey"].(string)
		typ, _ := r.Properties["AuthorizationType"].(string)
		protected := typ == "JWT" && strings.Contains(mustJSON(r.Properties["AuthorizerId"]), authorizerID)
		switch {
		case access[key] == auth.Public && (typ != "" && typ != "NONE"):
			t.Errorf("public route %s has authorization %s", key, typ)
		case access[key] == auth.Public:
			public++
		case !protected:
			t.Errorf("route %s is not behind the JWT authorizer: %v", key, r.Properties)
		}
	}
	if public != 3 {
		t.Errorf("%d public routes, want 3 (GET /product, GET /product/{id}, GET /inventory/{productId})", public)
	}
	tm.HasResourceProperties(jsii.String("AWS::Cognito::UserPoolGroup"), map[string]any{"GroupName": auth.AdminGroup})
	tm.ResourceCountIs(jsii.String("AWS::Cognito::UserPool"), jsii.Number(1))
	tm.HasResourceProperties(jsii.String("AWS::Cognito::UserPoolClient"), map[string]any{"GenerateSecret": false})
	// A failed sign-in says the same whether or not the user exists.
	tm.AllResourcesProperties(jsii.String("AWS::Cognito::UserPoolClient"), map[string]any{"PreventUserExistenceErrors": "ENABLED"})
}

func TestWhoMayComeIn(t *testing.T) {
	tm, res := template(t)
	stages := ofType(res, "AWS::ApiGatewayV2::Stage")
	if len(stages) != 1 {
		t.Fatalf("%d stages", len(stages))
	}
	for _, st := range stages {
		rs, _ := st.Properties["DefaultRouteSettings"].(map[string]any)
		if rs["ThrottlingRateLimit"] != float64(apiRateLimit) || rs["ThrottlingBurstLimit"] != float64(apiBurstLimit) {
			t.Errorf("stage throttle %v", rs)
		}
		als, _ := st.Properties["AccessLogSettings"].(map[string]any)
		if !strings.Contains(mustJSON(als["DestinationArn"]), logicalID(t, res, "AWS::Logs::LogGroup", "ApiAccessLogs")) || !strings.Contains(mustJSON(als["Format"]), "requestId") {
			t.Errorf("access logs %v", als)
		}
	}
	tm.HasResourceProperties(jsii.String("AWS::Logs::LogGroup"), map[string]any{"RetentionInDays": 30})
	tm.HasResourceProperties(jsii.String("AWS::Cognito::UserPool"), map[string]any{
		"MfaConfiguration":      "ON",
		"EnabledMfas":           []any{"SOFTWARE_TOKEN_MFA"},
		"UsernameConfiguration": map[string]any{"CaseSensitive": false},
		"AdminCreateUserConfig": map[string]any{"AllowAdminCreateUserOnly": true},
		"LambdaConfig":          map[string]any{"PreSignUp": assertions.Match_AnyValue()},
	})
	// The option turns self sign-up on.
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	open := assertions.Template_FromStack(NewShopStack(app, "Open", &ShopStackProps{AssetDir: assetDir(t), SelfSignUp: true}), nil)
	open.HasResourceProperties(jsii.String("AWS::Cognito::UserPool"), map[string]any{"AdminCreateUserConfig": map[string]any{"AllowAdminCreateUserOnly": false}})
}

// writeAssets puts a placeholder bootstrap for every function in dir: the
// assertions are about the template, and make lambdas builds the real ones.
func writeAssets(t testing.TB, dir string) {
	t.Helper()
	for _, fn := range Functions {
		if err := os.MkdirAll(filepath.Join(dir, fn), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fn, "bootstrap"), []byte(fn), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func assetDir(t testing.TB) string {
	dir := t.TempDir()
	writeAssets(t, dir)
	return dir
}

// No span leaves a function unless the stack is given an OTLP endpoint; given
// one (and a collector layer), every function has both.
func TestTracesExportOnlyWhenAsked(t *testing.T) {
	_, res := template(t)
	for id, fn := range shopFunctions(res) {
		if strings.Contains(mustJSON(fn.Properties["Environment"]), OTLPEndpointVariable) || fn.Properties["Layers"] != nil {
			t.Errorf("%s exports spans by default: %v", id, fn.Properties["Environment"])
		}
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	const endpoint, layer = "http://localhost:4318", "arn:aws:lambda:eu-west-1:901920570463:layer:aws-otel-collector-arm64-ver-0-117-0:1"
	traced := assertions.Template_FromStack(NewShopStack(app, "Traced", &ShopStackProps{AssetDir: assetDir(t), OTLPEndpoint: endpoint, OTLPLayerARN: layer}), nil)
	b, _ := json.Marshal(traced.ToJSON())
	var doc struct{ Resources map[string]resource }
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	fns := shopFunctions(doc.Resources)
	if len(fns) != len(Functions)+4 {
		t.Fatalf("%d functions", len(fns))
	}
	for id, fn := range fns {
		env, _ := fn.Properties["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		if vars[OTLPEndpointVariable] != endpoint || mustJSON(fn.Properties["Layers"]) != mustJSON([]string{layer}) {
			t.Errorf("%s: environment %v, layers %v; want the endpoint and the layer", id, vars, fn.Properties["Layers"])
		}
	}
}

// The synth refuses binaries that cannot export spans when asked to send
// them: this test binary was built without the otlp tag.
func TestBuiltWithOTLPReadsTheBuildTags(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := builtWithOTLP(self); ok || err != nil {
		t.Fatalf("builtWithOTLP(test binary) = %v, %v; want false", ok, err)
	}
	if _, err := builtWithOTLP(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("builtWithOTLP of a missing file: no error")
	}
	dir := t.TempDir()
	for name, text := range map[string]string{"go.mod": "module tagged\n\ngo 1.22\n", "main.go": "package main\n\nfunc main() {}\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	build := exec.Command("go", "build", "-tags", "lambda.norpc,otlp", "-o", "bootstrap", ".")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	if ok, err := builtWithOTLP(filepath.Join(dir, "bootstrap")); !ok || err != nil {
		t.Fatalf("builtWithOTLP(a binary built with lambda.norpc,otlp) = %v, %v; want true", ok, err)
	}
}

// The storefront's files sit in a private, encrypted bucket that only
// CloudFront reads (origin access control), served over HTTPS with the
// pages' security headers; the API is served under /api/ by the same
// distribution; its Cognito client signs users in with the authorization
// code flow and no secret (PKCE), back to the distribution; the API's
// authorizer takes the client's tokens; the deployment leaves the console out.
func TestStorefront(t *testing.T) {
	tm, res := template(t)
	tm.HasResourceProperties(jsii.String("AWS::S3::Bucket"), map[string]any{
		"PublicAccessBlockConfiguration": map[string]any{"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
		"BucketEncryption":               assertions.Match_AnyValue(),
	})
	dist := logicalID(t, res, "AWS::CloudFront::Distribution", "Storefront")
	cfg, _ := res[dist].Properties["DistributionConfig"].(map[string]any)
	behavior, _ := cfg["DefaultCacheBehavior"].(map[string]any)
	origins, _ := cfg["Origins"].([]any)
	if cfg["DefaultRootObject"] != "index.html" || behavior["ViewerProtocolPolicy"] != "redirect-to-https" || behavior["ResponseHeadersPolicyId"] == nil ||
		len(origins) != 2 || origins[0].(map[string]any)["OriginAccessControlId"] == nil {
		t.Fatalf("distribution %s", mustJSON(cfg))
	}
	// The API under /api/: API Gateway's host as the origin, over HTTPS,
	// uncached (so the Authorization header goes with every request), every
	// method, the path's /api taken off on the way.
	api := logicalID(t, res, "AWS::ApiGatewayV2::Api", "ShopApi")
	behaviors, _ := cfg["CacheBehaviors"].([]any)
	if len(behaviors) != 1 {
		t.Fatalf("cache behaviors %s, want one for the API", mustJSON(behaviors))
	}
	apiBehavior := behaviors[0].(map[string]any)
	const cachingDisabled, allViewerExceptHost = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad", "b689b0a8-53d0-40ab-baf2-68738e2966ac"
	apiOrigin := origins[1].(map[string]any)
	if apiBehavior["PathPattern"] != APIPath+"/*" || apiBehavior["CachePolicyId"] != cachingDisabled || apiBehavior["OriginRequestPolicyId"] != allViewerExceptHost ||
		!strings.Contains(mustJSON(apiBehavior["AllowedMethods"]), "POST") || !strings.Contains(mustJSON(apiBehavior["AllowedMethods"]), "DELETE") ||
		apiBehavior["TargetOriginId"] != apiOrigin["Id"] || !strings.Contains(mustJSON(apiOrigin["DomainName"]), api) ||
		mustJSON(apiOrigin["CustomOriginConfig"].(map[string]any)["OriginProtocolPolicy"]) != `"https-only"` ||
		!strings.Contains(mustJSON(apiBehavior["FunctionAssociations"]), "viewer-request") {
		t.Fatalf("API behavior %s, origin %s", mustJSON(apiBehavior), mustJSON(apiOrigin))
	}
	for _, p := range ofType(res, "AWS::CloudFront::ResponseHeadersPolicy") {
		csp := mustJSON(p.Properties)
		// connect-src: the page's own origin and the user pool's own sign-in domain; no wildcard host.
		if !strings.Contains(csp, `script-src 'self'`) || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "execute-api") ||
			strings.Contains(csp, "*.") || !strings.Contains(csp, "connect-src 'self' https://") || !strings.Contains(csp, "amazoncognito.com") ||
			!strings.Contains(csp, "Permissions-Policy") || !strings.Contains(csp, "camera=()") {
			t.Errorf("response headers %s", csp)
		}
	}
	var web resource
	for _, c := range ofType(res, "AWS::Cognito::UserPoolClient") {
		if c.Properties["AllowedOAuthFlows"] != nil {
			web = c
		}
	}
	p := web.Properties
	if mustJSON(p["AllowedOAuthFlows"]) != `["code"]` || p["AllowedOAuthFlowsUserPoolClient"] != true || p["GenerateSecret"] == true ||
		!strings.Contains(mustJSON(p["CallbackURLs"]), dist) || !strings.Contains(mustJSON(p["AllowedOAuthScopes"]), "openid") {
		t.Fatalf("web client %s", mustJSON(p))
	}
	if len(ofType(res, "AWS::Cognito::UserPoolDomain")) != 1 {
		t.Fatal("no hosted sign-in domain")
	}
	// The pages call their own origin: the API answers no cross-origin request.
	if cors := res[api].Properties["CorsConfiguration"]; cors != nil {
		t.Errorf("API CORS %s", mustJSON(cors))
	}
	for _, a := range ofType(res, "AWS::ApiGatewayV2::Authorizer") {
		if aud, _ := a.Properties["JwtConfiguration"].(map[string]any)["Audience"].([]any); len(aud) != 2 {
			t.Errorf("the authorizer takes tokens of %d clients, want the API's and the storefront's", len(aud))
		}
	}
	deployments := ofType(res, "Custom::CDKBucketDeployment")
	if len(deployments) != 1 {
		t.Fatalf("%d bucket deployments", len(deployments))
	}
	for _, d := range deployments {
		if ex := mustJSON(d.Properties["Exclude"]); !strings.Contains(ex, "console.html") || d.Properties["DistributionPaths"] == nil {
			t.Errorf("deployment %s", mustJSON(d.Properties))
		}
	}
}

// The CloudFront Function in front of the API, run under Node.js as
// CloudFront runs it: the request's path without /api, the rest untouched.
func TestTheAPIPathFunction(t *testing.T) {
	_, res := template(t)
	fns := ofType(res, "AWS::CloudFront::Function")
	if len(fns) != 1 {
		t.Fatalf("%d CloudFront functions", len(fns))
	}
	var code string
	for _, f := range fns {
		code, _ = f.Properties["FunctionCode"].(string)
		if cfg := f.Properties["FunctionConfig"].(map[string]any); cfg["Runtime"] != "cloudfront-js-2.0" {
			t.Fatalf("runtime %v", cfg["Runtime"])
		}
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node: %v", err) // make test installs npm packages with it: it is there
	}
	for in, want := range map[string]string{"/api/product": "/product", "/api/order/alice/o-1/cancel": "/order/alice/o-1/cancel", "/api/": "/"} {
		script := code + `
var out = handler({request: {method: 'GET', uri: ` + mustJSON(in) + `, querystring: {category: {value: 'Phone'}}, headers: {authorization: {value: 'Bearer t'}}}});
process.stdout.write(JSON.stringify(out));`
		got, err := exec.Command(node, "-e", script).Output()
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		var req struct {
			URI         string         `json:"uri"`
			Querystring map[string]any `json:"querystring"`
			Headers     map[string]any `json:"headers"`
		}
		if err := json.Unmarshal(got, &req); err != nil {
			t.Fatalf("%s: %s: %v", in, got, err)
		}
		if req.URI != want || req.Querystring["category"] == nil || req.Headers["authorization"] == nil {
			t.Errorf("%s → %s, want uri %s with the query and headers kept", in, got, want)
		}
	}
}

// Every event's schema is in the EventBridge schema registry, as draft 4
// (what the registry takes): the whole event, its source and detail-type
// fixed, its detail the committed schema's.
func TestEventSchemasAreInTheRegistry(t *testing.T) {
	_, res := template(t)
	if n := len(ofType(res, "AWS::EventSchemas::Registry")); n != 1 {
		t.Fatalf("%d schema registries", n)
	}
	schemas := ofType(res, "AWS::EventSchemas::Schema")
	if len(schemas) != len(events.Contracts()) {
		t.Fatalf("%d schemas in the registry, %d events", len(schemas), len(events.Contracts()))
	}
	for _, c := range events.Contracts() {
		s := schemas[logicalID(t, res, "AWS::EventSchemas::Schema", "EventSchema"+c.DetailType)].Properties
		var content struct {
			Schema     string `json:"$schema"`
			Required   []string
			Properties map[string]struct {
				Enum       []string
				Required   []string
				Properties map[string]any
			}
		}
		if s["Type"] != "JSONSchemaDraft4" || s["SchemaName"] != c.Source+"@"+c.DetailType || json.Unmarshal([]byte(s["Content"].(string)), &content) != nil {
			t.Fatalf("%s: %v", c.DetailType, s)
		}
		detail := content.Properties["detail"]
		if content.Schema != "http://json-schema.org/draft-04/schema#" || mustJSON(content.Properties["detail-type"].Enum) != mustJSON([]string{c.DetailType}) ||
			mustJSON(content.Properties["source"].Enum) != mustJSON([]string{c.Source}) || !slices.Contains(content.Required, "detail") || len(detail.Properties) == 0 ||
			strings.Contains(s["Content"].(string), "2020-12") || strings.Contains(s["Content"].(string), `"const"`) || strings.Contains(s["Content"].(string), `"examples"`) {
			t.Errorf("%s: content %s", c.DetailType, s["Content"])
		}
	}
}
