// Package lambda_test runs the real Lambda binaries under the AWS Lambda
// Runtime Interface Emulator, with DynamoDB played by dynalite, and invokes them
// with the events API Gateway, SQS and DynamoDB Streams send.
package lambda_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventshop/eventshop/internal/awsenv"
	basketwire "github.com/eventshop/eventshop/internal/basket/wire"
	catalogwire "github.com/eventshop/eventshop/internal/catalog/wire"
	"github.com/eventshop/eventshop/internal/dynamotest"
	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/eventstest"
	inventorydynamo "github.com/eventshop/eventshop/internal/inventory/dynamo"
	inventorywire "github.com/eventshop/eventshop/internal/inventory/wire"
	"github.com/eventshop/eventshop/internal/money"
	orderingwire "github.com/eventshop/eventshop/internal/ordering/wire"
	"github.com/eventshop/eventshop/internal/outbox/outboxitem"
	"github.com/eventshop/eventshop/internal/outbox/streams/eventbridgetest"
	paymentwire "github.com/eventshop/eventshop/internal/payment/wire"
	"github.com/eventshop/eventshop/internal/services"
	"github.com/eventshop/eventshop/internal/telemetry/otlptest"
	"github.com/eventshop/eventshop/internal/testenv"
	"github.com/eventshop/eventshop/internal/waittest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

// rie finds the emulator: in the repository's bin/ (where make test installs
// it) or on PATH.
func rie(t *testing.T) string {
	t.Helper()
	if p, err := filepath.Abs("../../bin/aws-lambda-rie"); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p
	}
	testenv.Missing(t, "aws-lambda-rie not found; make test installs it into bin/")
	return ""
}

var (
	buildMu  sync.Mutex
	built    = map[string]string{} // binary by tags and function
	nmOutput = map[string][]byte{} // go tool nm's output by binary
)

// functions lists every Lambda function by name (services.Functions);
// TestEveryFunctionIsDeclared holds it to the directories under cmd/lambda.
var functions = services.FunctionNames()

// required lists the environment variables function's main requires.
func required(function string) []string {
	f, ok := services.Function(function)
	if !ok {
		panic("no function " + function)
	}
	return f.Env
}

// lambdaTags are the build tags of make lambdas: no RPC mode, no local
// adapters (the services' wire packages leave SQLite out).
const lambdaTags = "lambda.norpc,nolocal"

func TestEveryFunctionIsDeclared(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != "internal" {
			dirs = append(dirs, e.Name())
		}
	}
	if !slices.Equal(dirs, functions) {
		t.Fatalf("directories under cmd/lambda %v, functions of services.Functions %v", dirs, functions)
	}
}

// A function links the metric SDK and writes EMF lines (its main calls
// lambdametrics.Install) exactly when its code records a metric: the
// consumers count deliveries (eventbus.HandleBatch), the publishers events
// (eventbus.StartPublish). The API functions and the trigger record none, and
// link none of it.
func TestMetricsAreInstalledWhereRecorded(t *testing.T) {
	has := func(symbols []byte, name string) bool { return bytes.Contains(symbols, []byte(" "+name+"\n")) }
	for _, name := range functions {
		symbols := symbolsOf(t, name)
		records := has(symbols, "github.com/eventshop/eventshop/internal/eventbus.HandleBatch") || has(symbols, "github.com/eventshop/eventshop/internal/eventbus.StartPublish")
		writes := has(symbols, "github.com/eventshop/eventshop/internal/telemetry/emf.Write")
		sdk := has(symbols, "go.opentelemetry.io/otel/sdk/metric.NewMeterProvider")
		if records != writes || writes != sdk {
			t.Errorf("%s: records metrics %v, writes EMF %v, links the metric SDK %v; want all or none", name, records, writes, sdk)
		}
	}
}

// No function links the SDK's config package: lambdaenv.AWS reads the
// configuration Lambda provides, and the config package's credential
// providers (shared files, SSO, STS, IMDS) would only lengthen a cold start.
func TestNoFunctionLinksTheConfigLoader(t *testing.T) {
	for _, name := range functions {
		symbols := symbolsOf(t, name)
		for _, pkg := range []string{"github.com/aws/aws-sdk-go-v2/config.", "github.com/aws/aws-sdk-go-v2/service/sts."} {
			if bytes.Contains(symbols, []byte(" "+pkg)) {
				t.Errorf("%s links %s", name, strings.TrimSuffix(pkg, "."))
			}
		}
	}
}

// No function links SQLite: the services' local adapters are left out of
// Lambda builds (the nolocal tag), as they would lengthen every cold start.
func TestNoFunctionLinksSQLite(t *testing.T) {
	for _, name := range functions {
		if symbols := symbolsOf(t, name); bytes.Contains(symbols, []byte(" modernc.org/sqlite.")) {
			t.Errorf("%s links modernc.org/sqlite", name)
		}
	}
}

// symbolsOf lists the symbols of function's binary (go tool nm), once per
// test process.
func symbolsOf(t *testing.T, function string) []byte {
	t.Helper()
	bin := binary(t, lambdaTags, function)
	buildMu.Lock()
	defer buildMu.Unlock()
	if s, ok := nmOutput[bin]; ok {
		return s
	}
	s, err := exec.Command("go", "tool", "nm", bin).Output()
	if err != nil {
		t.Fatalf("go tool nm %s: %v", function, err)
	}
	nmOutput[bin] = s
	return s
}

// binary compiles function with tags, once per test process.
func binary(t *testing.T, tags, function string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	key := tags + " " + function
	if bin, ok := built[key]; ok {
		return bin
	}
	dir, err := os.MkdirTemp("", "lambdas")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, function, "bootstrap")
	cmd := exec.Command("go", "build", "-tags", tags, "-o", out, "./"+function)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s with %s: %v\n%s", function, tags, err, b)
	}
	built[key] = out
	return out
}

type function struct {
	t      *testing.T
	name   string
	url    string
	logs   *syncBuffer
	claims map[string]string // what API Gateway's JWT authorizer verified, if anything
	header map[string]string // sent besides the content type
}

// with returns f sending header name: value too.
func (f *function) with(name, value string) *function {
	c := *f
	c.header = maps.Clone(f.header)
	if c.header == nil {
		c.header = map[string]string{}
	}
	c.header[strings.ToLower(name)] = value
	return &c
}

// as returns f called by the caller with claims.
func (f *function) as(claims map[string]string) *function {
	c := *f
	c.claims = claims
	return &c
}

var (
	adminClaims = map[string]string{"sub": "s-root", "cognito:username": "root", "cognito:groups": "[admin]"}
	aliceClaims = map[string]string{"sub": "s-alice", "cognito:username": "alice"}
)

// syncBuffer collects a process's output while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// start runs bootstrap under the emulator with env.
func start(t *testing.T, emulator, name, bootstrap string, env map[string]string) *function {
	t.Helper()
	port, apiPort := freePort(t), freePort(t)
	cmd := exec.Command(emulator,
		"--runtime-interface-emulator-address", fmt.Sprintf("127.0.0.1:%d", port),
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", apiPort),
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_EC2_METADATA_DISABLED=true"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	testenv.DieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s logs:\n%s", name, logs.String())
		}
	})
	waittest.For(t, name+"'s emulator to listen", func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return &function{t: t, name: name, url: fmt.Sprintf("http://127.0.0.1:%d/2015-03-31/functions/function/invocations", port), logs: logs}
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startEach builds each of names with tags and starts it under the emulator
// with common and the variables it requires, taken from
// settings, as the stack sets them: a main that needs another fails its init.
func startEach(t *testing.T, emulator, tags string, names []string, settings, common map[string]string) map[string]*function {
	t.Helper()
	fn := map[string]*function{}
	for _, name := range names {
		env := maps.Clone(common)
		for _, k := range required(name) {
			env[k] = settings[k]
		}
		fn[name] = start(t, emulator, name, binary(t, tags, name), env)
	}
	return fn
}

// post sends event to the function and returns its answer.
func (f *function) post(event any) (status int, answer []byte) {
	f.t.Helper()
	body, err := json.Marshal(event)
	if err != nil {
		f.t.Fatal(err)
	}
	res, err := http.Post(f.url, "application/json", bytes.NewReader(body))
	if err != nil {
		f.t.Fatalf("invoke %s: %v", f.name, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// invoke sends event and decodes the function's result into out.
func (f *function) invoke(event, out any) {
	f.t.Helper()
	status, b := f.post(event)
	if status != 200 || bytes.Contains(b, []byte(`"errorType"`)) {
		f.t.Fatalf("invoke %s: %d %s", f.name, status, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		f.t.Fatalf("invoke %s: decode %s: %v", f.name, b, err)
	}
}

// invokeError sends event and returns the error message the function
// answered with; it fails the test if the function succeeded.
func (f *function) invokeError(event any) string {
	f.t.Helper()
	status, b := f.post(event)
	var out struct{ ErrorMessage, ErrorType string }
	if err := json.Unmarshal(b, &out); err != nil || out.ErrorType == "" {
		f.t.Fatalf("invoke %s: %d %s, want an error", f.name, status, b)
	}
	return out.ErrorMessage
}

// http sends an API Gateway HTTP API (payload 2.0) request through the function.
func (f *function) http(method, path, body string) awsevents.APIGatewayV2HTTPResponse {
	f.t.Helper()
	raw, query, _ := strings.Cut(path, "?")
	req := awsevents.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: raw, RawQueryString: query, Body: body,
		Headers: map[string]string{"content-type": "application/json"},
		RequestContext: awsevents.APIGatewayV2HTTPRequestContext{
			DomainName: "api.example.test", Stage: "$default", RequestID: "req-1",
			HTTP: awsevents.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: raw, Protocol: "HTTP/1.1", SourceIP: "192.0.2.1"},
		},
	}
	maps.Copy(req.Headers, f.header)
	if f.claims != nil {
		req.RequestContext.Authorizer = &awsevents.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &awsevents.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: f.claims},
		}
	}
	var res awsevents.APIGatewayV2HTTPResponse
	f.invoke(req, &res)
	return res
}

func (f *function) want(status int, method, path, body string) string {
	f.t.Helper()
	res := f.http(method, path, body)
	if res.StatusCode != status {
		f.t.Fatalf("%s %s %s → %d %s, want %d", f.name, method, path, res.StatusCode, res.Body, status)
	}
	return res.Body
}

// tableInputs describes the table behind each environment variable that
// names one (services.Tables).
var tableInputs = func() map[string]func(string) *dynamodb.CreateTableInput {
	out := map[string]func(string) *dynamodb.CreateTableInput{}
	for _, t := range services.Tables() {
		out[t.Env] = t.Input
	}
	return out
}()

// makeTables creates the tables the variables name and returns each one's
// name by its variable.
func makeTables(t *testing.T, db *dynamodb.Client, vars ...string) map[string]string {
	t.Helper()
	tables := make(map[string]string, len(vars))
	for _, v := range vars {
		tables[v] = dynamotest.Table(t, db, tableInputs[v])
	}
	return tables
}

func TestLambdaArtifacts(t *testing.T) {
	emulator := rie(t)
	db := dynamotest.Client(t)
	endpoint := dynamotest.Endpoint(t)
	tables := makeTables(t, db, slices.Collect(maps.Keys(tableInputs))...)
	bus := &eventbridgetest.Bus{}
	// One publisher plays every table's here: it may send every source.
	settings := map[string]string{awsenv.EventBusName: "SwnEventBus", awsenv.EventSources: strings.Join(events.SourcesOf(), ",")}
	maps.Copy(settings, tables)
	ebEndpoint := eventbridgetest.Start(t, bus)
	fns := startEach(t, emulator, lambdaTags, functions, settings,
		map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": endpoint, "AWS_ENDPOINT_URL_EVENTBRIDGE": ebEndpoint})
	// fn is the function name, failing t: each step below is a subtest.
	fn := func(t *testing.T, name string) *function {
		c := *fns[name]
		c.t = t
		return &c
	}
	// step runs one step of the story; the rest need it, so a failed step ends the test.
	step := func(name string, f func(t *testing.T)) {
		t.Helper()
		if !t.Run(name, f) {
			t.FailNow()
		}
	}
	var (
		p struct {
			ID    string      `json:"id"`
			Price money.Cents `json:"price"`
		}
		published []eventbridgetest.Entry
		checkout  events.CheckoutBasket
	)
	// outboxOf reads the one event an item carries for its stream publisher.
	outboxOf := func(t *testing.T, table, keyName, keyValue string, more ...string) events.Outgoing {
		t.Helper()
		key := map[string]ddbtypes.AttributeValue{keyName: &ddbtypes.AttributeValueMemberS{Value: keyValue}}
		if len(more) == 2 {
			key[more[0]] = &ddbtypes.AttributeValueMemberS{Value: more[1]}
		}
		item, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: ptr(table), Key: key})
		if err != nil {
			t.Fatal(err)
		}
		av, ok := item.Item["outbox"].(*ddbtypes.AttributeValueMemberS)
		if !ok {
			t.Fatalf("%s %s carries no events", table, keyValue)
		}
		evts, err := outboxitem.Decode(av.Value)
		if err != nil || len(evts) != 1 {
			t.Fatalf("outbox %s: %v", av.Value, err)
		}
		return evts[0]
	}
	deliver := func(t *testing.T, name string, e events.Outgoing) {
		t.Helper()
		var resp awsevents.SQSEventResponse
		fn(t, name).invoke(eventstest.Batch(eventstest.Message(t, e.ID, e.Source, e.DetailType, json.RawMessage(e.Detail))), &resp)
		if len(resp.BatchItemFailures) != 0 {
			t.Fatalf("%s failed %v", name, resp.BatchItemFailures)
		}
	}

	// publishOutbox has the outbox publisher send e, as it would from the
	// stream record of the write that stored it.
	publishOutbox := func(t *testing.T, e events.Outgoing) {
		t.Helper()
		av, err := outboxitem.Encode([]events.Outgoing{e})
		if err != nil {
			t.Fatal(err)
		}
		outbox := av.(*ddbtypes.AttributeValueMemberS).Value
		var resp awsevents.DynamoDBEventResponse
		fn(t, "outbox-publisher").invoke(awsevents.DynamoDBEvent{Records: []awsevents.DynamoDBEventRecord{{
			EventName: "MODIFY",
			Change:    awsevents.DynamoDBStreamRecord{SequenceNumber: e.ID, NewImage: map[string]awsevents.DynamoDBAttributeValue{"outbox": awsevents.NewStringAttribute(outbox)}},
		}}}, &resp)
		if len(resp.BatchItemFailures) != 0 {
			t.Fatalf("publisher failed %v", resp.BatchItemFailures)
		}
	}

	step("the catalog API creates and reads a product; a keyed retry is the same product", func(t *testing.T) {
		fn(t, "catalog-api").as(aliceClaims).want(403, "POST", "/product", `{"name":"Widget","category":"Tools","price":19.99}`)
		keyed := fn(t, "catalog-api").as(adminClaims).with("Idempotency-Key", "create-widget")
		mustJSON(t, keyed.want(201, "POST", "/product", `{"name":"Widget","category":"Tools","price":19.99}`), &p)
		// A retry under the same key, through the function's DynamoDB idempotency table, is the same product.
		var again struct{ ID string }
		mustJSON(t, keyed.want(201, "POST", "/product", `{"name":"Widget","category":"Tools","price":19.99}`), &again)
		if again.ID != p.ID {
			t.Fatalf("a retried create made product %s besides %s", again.ID, p.ID)
		}
		keyed.want(422, "POST", "/product", `{"name":"Gadget","category":"Tools","price":19.99}`)
		mustJSON(t, fn(t, "catalog-api").want(200, "GET", "/product/"+p.ID, ""), &p)
		if p.Price != 1999 {
			t.Fatalf("product price %v", p.Price)
		}
		if body := fn(t, "catalog-api").want(200, "GET", "/product?category=Tools", ""); !strings.Contains(body, p.ID) {
			t.Fatalf("category list %s lacks %s", body, p.ID)
		}
		fn(t, "catalog-api").as(adminClaims).want(400, "POST", "/product", `{"name":"Widget","category":"Tools","price":19.999}`)

	})
	step("the outbox publisher sends the event the write stored on its item", func(t *testing.T) {
		// The outbox publisher sends the event the catalog write stored on its item.
		item, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: ptr(tables[catalogwire.Table]), Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: p.ID}}})
		if err != nil {
			t.Fatal(err)
		}
		outbox := item.Item["outbox"].(*ddbtypes.AttributeValueMemberS).Value
		var streamResp awsevents.DynamoDBEventResponse
		fn(t, "outbox-publisher").invoke(awsevents.DynamoDBEvent{Records: []awsevents.DynamoDBEventRecord{{
			EventName: "INSERT",
			Change:    awsevents.DynamoDBStreamRecord{SequenceNumber: "1", NewImage: map[string]awsevents.DynamoDBAttributeValue{"outbox": awsevents.NewStringAttribute(outbox)}},
		}}}, &streamResp)
		published = bus.Published()
		if len(streamResp.BatchItemFailures) != 0 || len(published) != 1 || published[0].DetailType != events.TypeProductChanged {
			t.Fatalf("publisher: failures %v, published %+v", streamResp.BatchItemFailures, published)
		}

	})
	step("a record EventBridge refuses is parked, then republished", func(t *testing.T) {
		// A record EventBridge refuses is parked, not retried for ever; once the
		// cause is gone, the republish function sends it and empties the table.
		bus.SetFail(func(_ int, e eventbridgetest.Entry) string {
			if strings.Contains(e.Detail, "Refused") {
				return "NotAuthorizedForSourceException"
			}
			return ""
		})
		refused, err := events.New(context.Background(), events.SourceCatalog, events.TypeProductChanged, map[string]string{"name": "Refused"}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		refusedOutbox, _ := outboxitem.Encode([]events.Outgoing{refused})
		var streamResp awsevents.DynamoDBEventResponse
		fn(t, "outbox-publisher").invoke(awsevents.DynamoDBEvent{Records: []awsevents.DynamoDBEventRecord{{
			EventName: "INSERT", EventSourceArn: "arn:aws:dynamodb:us-east-1:000000000000:table/products/stream/1",
			Change: awsevents.DynamoDBStreamRecord{SequenceNumber: "2", NewImage: map[string]awsevents.DynamoDBAttributeValue{"outbox": awsevents.NewStringAttribute(refusedOutbox.(*ddbtypes.AttributeValueMemberS).Value)}},
		}}}, &streamResp)
		if len(streamResp.BatchItemFailures) != 0 || len(bus.Published()) != 1 {
			t.Fatalf("a refused record: failures %v, published %d", streamResp.BatchItemFailures, len(bus.Published()))
		}
		bus.SetFail(nil)
		var republished struct{ Republished, Left int }
		fn(t, "outbox-republish").invoke(map[string]string{}, &republished)
		if republished.Republished != 1 || republished.Left != 0 || len(bus.Published()) != 2 {
			t.Fatalf("republish = %+v, published %d", republished, len(bus.Published()))
		}

	})
	step("the pre-sign-up trigger refuses the names the API refuses", func(t *testing.T) {
		// The user pool's pre-sign-up trigger refuses user names the API refuses.
		var signUp awsevents.CognitoEventUserPoolsPreSignup
		signUp.UserName = "ada.lovelace"
		fn(t, "cognito-pre-signup").invoke(signUp, &signUp)
		if signUp.UserName != "ada.lovelace" {
			t.Fatalf("pre-sign-up changed the event: %+v", signUp)
		}
		signUp.UserName = "José"
		if msg := fn(t, "cognito-pre-signup").invokeError(signUp); !strings.Contains(msg, "cannot be used") {
			t.Fatalf("pre-sign-up of José: %q, want a refusal", msg)
		}

	})
	step("the basket and inventory consumers apply the product's event", func(t *testing.T) {
		// The basket consumer gets that event from SQS in an EventBridge envelope.
		var sqsResp awsevents.SQSEventResponse
		msg := eventstest.Message(t, "m1", published[0].Source, published[0].DetailType, json.RawMessage(published[0].Detail))
		fn(t, "basket-consumer").invoke(eventstest.Batch(msg), &sqsResp)
		if len(sqsResp.BatchItemFailures) != 0 {
			t.Fatalf("basket consumer failed %v", sqsResp.BatchItemFailures)
		}
		// The inventory consumer learns of the product from the same event.
		fn(t, "inventory-consumer").invoke(eventstest.Batch(msg), &sqsResp)
		if st, err := inventorydynamo.New(db, tables[inventorywire.StockTable], "").Get(context.Background(), p.ID); len(sqsResp.BatchItemFailures) != 0 || err != nil || st.CatalogVersion != 1 {
			t.Fatalf("inventory consumer: failures %v, stock %+v, %v", sqsResp.BatchItemFailures, st, err)
		}
	})
	step("the inventory API sets, adjusts and guards the stock", func(t *testing.T) {
		// Inventory API: an admin sets the stock; anyone reads what is available.
		fn(t, "inventory-api").as(aliceClaims).want(403, "PUT", "/inventory/"+p.ID, `{"available":50}`)
		fn(t, "inventory-api").as(adminClaims).want(200, "PUT", "/inventory/"+p.ID, `{"available":50}`)
		if body := fn(t, "inventory-api").want(200, "GET", "/inventory/"+p.ID, ""); !strings.Contains(body, `"available":50`) || strings.Contains(body, "reserved") {
			t.Fatalf("public stock = %s", body)
		}
		fn(t, "inventory-api").want(404, "GET", "/inventory/never-announced", "")

		// Hostile input is refused, naming the field, as locally.
		if body := fn(t, "catalog-api").as(adminClaims).want(400, "PUT", "/product/"+p.ID, `{"name":"x","category":"c","price":1,"imageFile":"../../etc/passwd"}`); !strings.Contains(body, "imageFile") {
			t.Fatalf("an image file with a path: %s", body)
		}
		fn(t, "inventory-api").as(aliceClaims).want(403, "POST", "/inventory/"+p.ID+"/adjustments", `{"delta":5,"reason":"delivery"}`)
		if body := fn(t, "inventory-api").as(adminClaims).want(200, "POST", "/inventory/"+p.ID+"/adjustments", `{"delta":5,"reason":"delivery"}`); !strings.Contains(body, `"available":55`) || !strings.Contains(body, `"version":2`) {
			t.Fatalf("stock after adjusting by 5 = %s", body)
		}
		fn(t, "inventory-api").as(adminClaims).want(422, "POST", "/inventory/"+p.ID+"/adjustments", `{"delta":-56,"reason":"count"}`)
		fn(t, "inventory-api").as(adminClaims).want(200, "PUT", "/inventory/"+p.ID, `{"available":50,"version":2}`)
		fn(t, "inventory-api").as(adminClaims).want(409, "PUT", "/inventory/"+p.ID, `{"available":50,"version":2}`)

	})
	step("the basket API prices a basket on the server", func(t *testing.T) {
		// Basket API: write and read a basket, priced by the server.
		basket := fn(t, "basket-api").as(aliceClaims).want(200, "POST", "/basket", `{"userName":"alice","items":[{"productId":"`+p.ID+`","quantity":3,"price":0.01}]}`)
		if !strings.Contains(basket, `"totalPrice":59.97`) {
			t.Fatalf("basket = %s, want total 59.97", basket)
		}
		fn(t, "basket-api").as(adminClaims).want(403, "POST", "/basket", `{"userName":"alice","items":[]}`)
		if body := fn(t, "basket-api").as(aliceClaims).want(200, "GET", "/basket/alice", ""); !strings.Contains(body, `"lineTotal":59.97`) {
			t.Fatalf("GET basket = %s", body)
		}

	})
	step("a checkout makes one order however often its event comes", func(t *testing.T) {
		// Checkout: priced from the price kept with the basket (the function
		// read it a moment ago: no check of it), it writes the emptied basket
		// with its CheckoutBasket. The ordering consumer makes one order from it,
		// however often it comes.
		if body := fn(t, "basket-api").as(aliceClaims).want(400, "POST", "/basket/checkout",
			`{"userName":"alice","firstName":"Ada","lastName":"Lovelace","email":"ada@example.com","address":"1 St","paymentMethod":"<svg/onload=alert(1)>"}`); !strings.Contains(body, "paymentMethod") {
			t.Fatalf("a payment method the shop does not offer: %s", body)
		}
		answer := fn(t, "basket-api").as(aliceClaims).want(202, "POST", "/basket/checkout",
			`{"userName":"alice","firstName":"Ada","lastName":"Lovelace","email":"ada@example.com","address":"1 St","paymentMethod":"invoice"}`)
		checkedOut := outboxOf(t, tables[basketwire.BasketTable], "userName", "alice")
		if err := json.Unmarshal(checkedOut.Detail, &checkout); err != nil || checkedOut.DetailType != events.TypeCheckoutBasket ||
			!strings.Contains(answer, checkout.CheckoutID) || checkout.TotalPrice != 5997 {
			t.Fatalf("checkout answered %s and wrote %s %s", answer, checkedOut.DetailType, checkedOut.Detail)
		}
		var sqsResp awsevents.SQSEventResponse
		for i := range 2 {
			m := eventstest.Message(t, fmt.Sprintf("c%d", i), checkedOut.Source, checkedOut.DetailType, json.RawMessage(checkedOut.Detail))
			fn(t, "ordering-consumer").invoke(eventstest.Batch(m), &sqsResp)
			if len(sqsResp.BatchItemFailures) != 0 {
				t.Fatalf("ordering consumer failed %v", sqsResp.BatchItemFailures)
			}
		}
		out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: ptr(tables[orderingwire.Table])})
		if err != nil || len(out.Items) != 1 {
			t.Fatalf("orders table holds %d items (%v), want 1", len(out.Items), err)
		}

	})
	step("the saga reserves the stock and takes the payment", func(t *testing.T) {
		// The saga: the order's OrderPlaced (on its item, for the stream
		// publisher) reaches the inventory, which reserves and says so on its own
		// item; that StockReserved reaches the ordering consumer: RESERVED.
		placed := outboxOf(t, tables[orderingwire.Table], "userName", "alice", "orderId", checkout.CheckoutID)
		if placed.DetailType != events.TypeOrderPlaced {
			t.Fatalf("the order's item carries %s", placed.DetailType)
		}
		publishOutbox(t, placed)
		deliver(t, "inventory-consumer", placed)
		reserved := outboxOf(t, tables[inventorywire.ReservationTable], "id", checkout.CheckoutID)
		if reserved.DetailType != events.TypeStockReserved {
			t.Fatalf("the reservation's item carries %s", reserved.DetailType)
		}
		deliver(t, "ordering-consumer", reserved)
		if body := fn(t, "ordering-api").as(aliceClaims).want(200, "GET", "/order/alice/"+checkout.CheckoutID, ""); !strings.Contains(body, `"status":"RESERVED"`) {
			t.Fatalf("order after StockReserved: %s", body)
		}
		// Not paid, it does not ship. The payment consumer pays for the stock
		// (the simulated provider); PaymentCaptured makes the order PAID.
		fn(t, "ordering-api").as(adminClaims).want(409, "POST", "/order/alice/"+checkout.CheckoutID+"/ship", "")
		deliver(t, "payment-consumer", reserved)
		captured := outboxOf(t, tables[paymentwire.Table], "orderId", checkout.CheckoutID)
		if captured.DetailType != events.TypePaymentCaptured {
			t.Fatalf("the payment's item carries %s", captured.DetailType)
		}
		deliver(t, "ordering-consumer", captured)
		if body := fn(t, "ordering-api").as(aliceClaims).want(200, "GET", "/order/alice/"+checkout.CheckoutID, ""); !strings.Contains(body, `"status":"PAID"`) {
			t.Fatalf("order after PaymentCaptured: %s", body)
		}

	})
	step("the ordering API lists the orders and waits for one", func(t *testing.T) {
		// Ordering API: list the orders.
		var orders struct {
			Items []struct {
				OrderID    string      `json:"orderId"`
				TotalPrice money.Cents `json:"totalPrice"`
			} `json:"items"`
		}
		mustJSON(t, fn(t, "ordering-api").as(aliceClaims).want(200, "GET", "/order/alice", ""), &orders)
		if len(orders.Items) != 1 || orders.Items[0].OrderID != checkout.CheckoutID || orders.Items[0].TotalPrice != 5997 {
			t.Fatalf("orders = %+v", orders)
		}
		fn(t, "ordering-api").as(aliceClaims).want(404, "GET", "/order/alice/0193a1b2-c3d4-7e5f-8a9b-000000000000", "")
		// Asked to wait (Prefer: wait), the function reads the table until the
		// order is placed or the wait is over: a placed order at once, a missing
		// one 404 once the second has passed.
		fn(t, "ordering-api").as(aliceClaims).with("Prefer", "wait=5").want(200, "GET", "/order/alice/"+checkout.CheckoutID, "")
		start := time.Now()
		fn(t, "ordering-api").as(aliceClaims).with("Prefer", "wait=1").want(404, "GET", "/order/alice/0193a1b2-c3d4-7e5f-8a9b-000000000000", "")
		if waited := time.Since(start); waited < time.Second {
			t.Errorf("a missing order with Prefer: wait=1 answered 404 after %v, want after the second", waited)
		}
		fn(t, "ordering-api").as(map[string]string{"sub": "s-bob", "cognito:username": "bob"}).want(403, "GET", "/order/alice", "")
	})
	step("a cancelled order is refunded, and its history says so", func(t *testing.T) {
		// Its owner cancels it; the cancellation rides on the order's item; the
		// payment consumer refunds it, and the refund reaches the order's history.
		if body := fn(t, "ordering-api").as(aliceClaims).want(202, "POST", "/order/alice/"+checkout.CheckoutID+"/cancel", ""); !strings.Contains(body, `"status":"CANCELLED"`) {
			t.Fatalf("cancel = %s", body)
		}
		stored, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: ptr(tables[orderingwire.Table]), Key: map[string]ddbtypes.AttributeValue{
			"userName": &ddbtypes.AttributeValueMemberS{Value: "alice"}, "orderId": &ddbtypes.AttributeValueMemberS{Value: checkout.CheckoutID},
		}})
		if err != nil || !strings.Contains(fmt.Sprint(stored.Item["outbox"]), events.TypeOrderCancelled) {
			t.Fatalf("the cancelled order's item carries no OrderCancelled: %v %v", stored.Item["outbox"], err)
		}
		cancelled := outboxOf(t, tables[orderingwire.Table], "userName", "alice", "orderId", checkout.CheckoutID)
		deliver(t, "payment-consumer", cancelled)
		refunded := outboxOf(t, tables[paymentwire.Table], "orderId", checkout.CheckoutID)
		if refunded.DetailType != events.TypePaymentRefunded {
			t.Fatalf("the payment's item carries %s after the cancellation", refunded.DetailType)
		}
		deliver(t, "ordering-consumer", refunded)
		if body := fn(t, "ordering-api").as(aliceClaims).want(200, "GET", "/order/alice/"+checkout.CheckoutID, ""); !strings.Contains(body, `"status":"REFUNDED"`) {
			t.Fatalf("order after PaymentRefunded: %s", body)
		}
		deliver(t, "inventory-consumer", cancelled) // gives back what it held (nothing: untracked)
	})
	step("a message a consumer cannot read fails alone", func(t *testing.T) {
		unreadable := eventstest.Batch(awsevents.SQSMessage{MessageId: "unreadable", Body: "not an event", EventSource: "aws:sqs",
			EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:ordering-checkout"})
		var resp awsevents.SQSEventResponse
		fn(t, "ordering-consumer").invoke(unreadable, &resp)
		if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "unreadable" {
			t.Fatalf("an unreadable message: failures %v, want it alone", resp.BatchItemFailures)
		}
	})
	step("the functions print only the EMF metrics infra/emf-metrics.json lists", func(t *testing.T) {
		var logs []string
		for _, name := range functions {
			logs = append(logs, fns[name].logs.String())
		}
		printed := emfMetrics(t, logs...)
		if *updateEMF {
			b, _ := json.MarshalIndent(printed, "", "  ")
			if err := os.WriteFile(emfMetricsFile, append(b, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		b, err := os.ReadFile(emfMetricsFile)
		if err != nil {
			t.Fatal(err)
		}
		var listed []emfMetric
		if err := json.Unmarshal(b, &listed); err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(listed, printed, func(a, b emfMetric) bool { return a.key() == b.key() }) {
			t.Fatalf("the functions printed %v;\n%s lists %v: go test ./cmd/lambda -run TestLambdaArtifacts -update-emf", printed, emfMetricsFile, listed)
		}
	})
}

// emfMetricsFile lists the metrics and dimension sets the functions print
// as EMF: the stack's alarms and dashboards may name those and no others
// of the shop's namespace (infra's metric table reads it).
const emfMetricsFile = "../../infra/emf-metrics.json"

var updateEMF = flag.Bool("update-emf", false, "rewrite "+emfMetricsFile+" from what the functions printed")

// emfMetric is one metric at one dimension set, as an EMF line declares it.
type emfMetric struct {
	Namespace  string   `json:"namespace"`
	Metric     string   `json:"metric"`
	Dimensions []string `json:"dimensions"`
}

func (m emfMetric) key() string {
	return m.Namespace + " " + m.Metric + " " + strings.Join(m.Dimensions, ",")
}

// emfMetrics reads every EMF line of the logs: each metric of each line at
// each of its dimension sets (sorted), once, in order.
func emfMetrics(t *testing.T, logs ...string) []emfMetric {
	t.Helper()
	seen := map[string]emfMetric{}
	for _, l := range logs {
		for _, line := range strings.Split(l, "\n") {
			if !strings.Contains(line, `"_aws"`) {
				continue
			}
			var emf struct {
				AWS struct {
					CloudWatchMetrics []struct {
						Namespace  string
						Dimensions [][]string
						Metrics    []struct{ Name string }
					}
				} `json:"_aws"`
			}
			if err := json.Unmarshal([]byte(line), &emf); err != nil {
				t.Fatalf("an EMF line that is not JSON: %v\n%s", err, line)
			}
			for _, d := range emf.AWS.CloudWatchMetrics {
				for _, dims := range d.Dimensions {
					dims = slices.Sorted(slices.Values(dims))
					for _, m := range d.Metrics {
						e := emfMetric{d.Namespace, m.Name, dims}
						seen[e.key()] = e
					}
				}
			}
		}
	}
	out := slices.Collect(maps.Values(seen))
	slices.SortFunc(out, func(a, b emfMetric) int { return strings.Compare(a.key(), b.key()) })
	return out
}

func TestMissingConfigurationFailsInit(t *testing.T) {
	emulator := rie(t)
	for _, name := range functions {
		if len(required(name)) == 0 {
			continue // nothing to miss
		}
		f := start(t, emulator, name, binary(t, lambdaTags, name), nil)
		res, err := http.Post(f.url, "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == 200 {
			t.Fatalf("%s without configuration answered 200; logs:\n%s\nwant a failed init", name, f.logs.String())
		}
		// The function's output reaches the emulator's log through a pipe, maybe
		// after the emulator has answered.
		waittest.For(t, name+"'s init error naming the missing variables", func() bool {
			return strings.Contains(f.logs.String(), "missing environment variable(s): ")
		})
	}
}

// A function given an OTLP endpoint but built without the exporter fails its
// init saying so, rather than drop its spans.
func TestAnEndpointWithoutTheExporterFailsInit(t *testing.T) {
	f := start(t, rie(t), awsenv.CognitoPreSignUp.Name, binary(t, lambdaTags, awsenv.CognitoPreSignUp.Name), map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})
	res, err := http.Post(f.url, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode == 200 {
		t.Fatalf("answered 200; logs:\n%s\nwant a failed init", f.logs.String())
	}
	waittest.For(t, "the init error naming the otlp tag", func() bool {
		return strings.Contains(f.logs.String(), "built without the otlp tag")
	})
}

func mustJSON(t *testing.T, body string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
}

func ptr(s string) *string { return &s }

// One trace crosses the functions built with the otlp tag and given an OTLP
// endpoint (here over gRPC): the catalog API continues the caller's
// traceparent, the stream publisher's span is the child of the API's, the
// consumer's the child of the publisher's, and the DynamoDB calls are spans
// of the request. Each function's spans are its service's, with the
// function named in the resource. Each invocation sends its spans before it
// answers, and its counters and histograms as EMF lines on standard output.
func TestATraceCrossesTheFunctions(t *testing.T) {
	emulator := rie(t)
	db := dynamotest.Client(t)
	collector := otlptest.Start(t)
	tables := makeTables(t, db, catalogwire.Table, awsenv.IdempotencyTable, basketwire.PriceTable, awsenv.ParkedTable)
	tables[awsenv.EventBusName] = "SwnEventBus"
	tables[awsenv.EventSources] = strings.Join(events.SourcesOf(), ",")
	bus := &eventbridgetest.Bus{}
	env := map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB": dynamotest.Endpoint(t), "AWS_ENDPOINT_URL_EVENTBRIDGE": eventbridgetest.Start(t, bus),
		"OTEL_EXPORTER_OTLP_ENDPOINT": collector.GRPC, "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
	}
	fn := startEach(t, emulator, lambdaTags+",otlp", []string{"catalog-api", awsenv.OutboxPublisher.Name, "basket-consumer"}, tables, env)

	const traceID, callerSpan = "5bf92f3577b34da6a3ce929d0e0e4736", "10f067aa0ba902b7"
	var p struct{ ID string }
	mustJSON(t, fn["catalog-api"].as(adminClaims).with("traceparent", "00-"+traceID+"-"+callerSpan+"-01").
		want(201, "POST", "/product", `{"name":"Traced","category":"Tools","price":1.50}`), &p)
	item, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: ptr(tables[catalogwire.Table]), Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: p.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	var streamResp awsevents.DynamoDBEventResponse
	fn[awsenv.OutboxPublisher.Name].invoke(awsevents.DynamoDBEvent{Records: []awsevents.DynamoDBEventRecord{{
		EventName: "INSERT",
		Change: awsevents.DynamoDBStreamRecord{SequenceNumber: "1", NewImage: map[string]awsevents.DynamoDBAttributeValue{
			"outbox": awsevents.NewStringAttribute(item.Item["outbox"].(*ddbtypes.AttributeValueMemberS).Value)}},
	}}}, &streamResp)
	published := bus.Published()
	if len(published) != 1 {
		t.Fatalf("published %+v", published)
	}
	msg := eventstest.Message(t, "m1", published[0].Source, published[0].DetailType, json.RawMessage(published[0].Detail))
	msg.EventSourceARN = "arn:aws:sqs:us-east-1:000000000000:" + eventbus.QueueBasketPrices
	var sqsResp awsevents.SQSEventResponse
	fn["basket-consumer"].invoke(eventstest.Batch(msg), &sqsResp)
	if len(sqsResp.BatchItemFailures) != 0 {
		t.Fatalf("basket consumer failed %v", sqsResp.BatchItemFailures)
	}

	spans := collector.Spans() // each invocation exported before it answered
	find := func(function, name string) otlptest.Span {
		t.Helper()
		f, _ := services.Function(function)
		service := f.Service
		for _, s := range spans {
			// The emulator names every function test_function.
			if s.Service == service && s.Resource["faas.name"] != "" && s.Resource["service.namespace"] == "eventshop" &&
				s.Name == name && s.TraceID == traceID {
				return s
			}
		}
		t.Fatalf("no span %q of %s (%s) in trace %s; spans: %+v", name, service, function, traceID, spans)
		return otlptest.Span{}
	}
	api := find("catalog-api", "POST /product")
	create := find("catalog-api", "create "+events.TypeProductChanged)
	publish := find(awsenv.OutboxPublisher.Name, "publish "+events.TypeProductChanged)
	process := find("basket-consumer", "process "+events.TypeProductChanged)
	if process.Attributes["messaging.system"] != eventbus.SystemSQS || publish.Attributes["messaging.system"] != eventbus.SystemEventBridge ||
		publish.Attributes["messaging.destination.name"] != "SwnEventBus" || api.Attributes["url.scheme"] == "" {
		t.Fatalf("attributes: process %v, publish %v, API %v", process.Attributes, publish.Attributes, api.Attributes)
	}
	if api.ParentSpanID != callerSpan || create.ParentSpanID != api.SpanID || publish.ParentSpanID != create.SpanID || process.ParentSpanID != create.SpanID {
		t.Fatalf("parents: API %s (want the caller's %s), create %s (want %s), publish %s and process %s (want the creation's %s)",
			api.ParentSpanID, callerSpan, create.ParentSpanID, api.SpanID, publish.ParentSpanID, process.ParentSpanID, create.SpanID)
	}
	if !slices.ContainsFunc(spans, func(s otlptest.Span) bool {
		return s.ParentSpanID == api.SpanID && strings.HasPrefix(s.Name, "DynamoDB")
	}) {
		t.Fatalf("no DynamoDB call under the API's span: %+v", spans)
	}
	// The function's output reaches the log through a pipe, maybe after the
	// emulator has answered: wait for the line.
	waittest.For(t, "the consumer's EMF line of its delivery", func() bool {
		logs := fn["basket-consumer"].logs.String()
		return strings.Contains(logs, `"eventshop.messages.delivered":1`) && strings.Contains(logs, `"CloudWatchMetrics"`) &&
			strings.Contains(logs, `"messaging.process.duration":[`)
	})
}
