// Package dynamotest runs dynalite, a DynamoDB-compatible server from the npm
// registry (pinned in tools/dynalite), on a free loopback port for the tests of
// the DynamoDB adapters, and creates a fresh table for each test. It starts
// dynalite through tools/dynalite/server.js, which adds TransactWriteItems,
// as a child that dies with the test process however it ends
// (testenv.DieWithParent: a timeout's kill leaves no server running).
package dynamotest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventshop/eventshop/internal/dynamoretry"
	"github.com/eventshop/eventshop/internal/testenv"
)

var (
	once     sync.Once
	endpoint string
	startErr error
	proc     *exec.Cmd
	tables   atomic.Int64
	tokens   atomic.Int64
)

// Main runs a test binary's tests and stops dynalite afterwards; call it from TestMain.
func Main(m *testing.M) int {
	code := m.Run()
	if proc != nil {
		_ = proc.Process.Kill()
		_ = proc.Wait()
	}
	return code
}

// Endpoint returns the URL of the running dynalite, starting it on first use.
// Without dynalite installed the test fails under CI=true and is skipped
// otherwise, with the command that installs it.
func Endpoint(t testing.TB) string {
	t.Helper()
	once.Do(func() { endpoint, startErr = start() })
	if startErr != nil {
		if !errors.Is(startErr, errNotInstalled) {
			t.Fatalf("dynalite: %v", startErr)
		}
		testenv.Missing(t, "dynalite: %v", startErr)
	}
	return endpoint
}

var errNotInstalled = errors.New("not installed; run: npm ci --prefix tools/dynalite (make test does)")

// Server finds tools/dynalite/server.js above the working directory, with
// dynalite installed beside it.
func Server() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		tools := filepath.Join(dir, "tools", "dynalite")
		if _, err := os.Stat(filepath.Join(tools, "node_modules", "dynalite", "cli.js")); err == nil {
			return filepath.Join(tools, "server.js"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errNotInstalled
		}
		dir = parent
	}
}

func start() (string, error) {
	server, err := Server()
	if err != nil {
		return "", err
	}
	port, err := freePort()
	if err != nil {
		return "", err
	}
	cmd := exec.Command("node", server, "--host", "127.0.0.1", "--port", fmt.Sprint(port), "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	cmd.Stderr = os.Stderr
	testenv.DieWithParent(cmd) // a test binary killed by its timeout leaves no server behind
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start node: %w", err)
	}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening") {
				ready <- nil
				break
			}
		}
		ready <- errors.New("exited before listening")
		for sc.Scan() {
		}
	}()
	select {
	case err := <-ready:
		if err != nil {
			_ = cmd.Process.Kill()
			return "", err
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		return "", errors.New("did not start within 30s")
	}
	proc = cmd
	return fmt.Sprintf("http://127.0.0.1:%d", port), nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Client returns a DynamoDB client for the running dynalite, configured as
// the functions' are (dynamoretry.Options).
func Client(t testing.TB) *dynamodb.Client {
	t.Helper()
	ep := Endpoint(t)
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(ep),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	}, dynamoretry.Options)
}

// Conflicts answers single-item writes (PutItem, UpdateItem, DeleteItem)
// as DynamoDB answers one on an item an ongoing transaction holds, with
// TransactionConflictException (HTTP 400, the awsJson1_0 error body), while
// it has conflicts Left; it sends every other call to dynalite. dynalite
// itself makes such a write wait for the transaction instead.
type Conflicts struct {
	Left atomic.Int64
	Met  atomic.Int64 // conflicts answered
	base *http.Client
}

// Do answers req with a conflict or sends it on.
func (c *Conflicts) Do(req *http.Request) (*http.Response, error) {
	op := req.Header.Get("X-Amz-Target")
	op = op[strings.LastIndexByte(op, '.')+1:]
	if (op == "PutItem" || op == "UpdateItem" || op == "DeleteItem") && c.Left.Add(-1) >= 0 {
		c.Met.Add(1)
		return ErrorAnswer(req, dynamoretry.Conflict, "Transaction is ongoing for the item"), nil
	}
	return c.base.Do(req)
}

// ErrorAnswer is DynamoDB's answer to req with an error code: HTTP 400 and
// the awsJson1_0 error body, which the SDK reads into its typed error.
func ErrorAnswer(req *http.Request, code, message string) *http.Response {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	body := `{"__type":"com.amazonaws.dynamodb.v20120810#` + code + `","message":"` + message + `"}`
	return &http.Response{
		StatusCode: http.StatusBadRequest, Status: "400 Bad Request", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/x-amz-json-1.0"}, "X-Amzn-Requestid": {"dynamotest"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)), Request: req,
	}
}

// ConflictingClient returns a client for the running dynalite, configured
// as Client's, whose next n single-item writes meet a transaction.
func ConflictingClient(t testing.TB, n int64) (*dynamodb.Client, *Conflicts) {
	t.Helper()
	c := &Conflicts{base: &http.Client{}}
	c.Left.Store(n)
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(Endpoint(t)),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:   c,
	}, dynamoretry.Options), c
}

// Table creates a table from in under a fresh name and returns the name.
func Table(t testing.TB, db *dynamodb.Client, in func(name string) *dynamodb.CreateTableInput) string {
	t.Helper()
	name := fmt.Sprintf("t%d-%d", os.Getpid(), tables.Add(1))
	if _, err := db.CreateTable(context.Background(), in(name)); err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
	w := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 10 * time.Millisecond })
	if err := w.Wait(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 10*time.Second); err != nil {
		t.Fatalf("table %s: %v", name, err)
	}
	return name
}

// RetriedPuts is a client whose every PutItem and TransactWriteItems is sent
// twice, as the SDK's retryer sends it again when the answer to a write that
// landed is lost (a transaction under the same client request token).
type RetriedPuts struct{ *dynamodb.Client }

// TransactWriteItems sends in twice under one client request token and
// answers with the second answer.
func (r RetriedPuts) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if in.ClientRequestToken == nil {
		in.ClientRequestToken = aws.String(fmt.Sprintf("retried-%d", tokens.Add(1)))
	}
	if _, err := r.Client.TransactWriteItems(ctx, in, opts...); err != nil {
		return nil, err
	}
	return r.Client.TransactWriteItems(ctx, in, opts...)
}

// PutItem writes in, then sends the same request again and answers with the
// second answer.
func (r RetriedPuts) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if _, err := r.Client.PutItem(ctx, in, opts...); err != nil {
		return nil, err
	}
	return r.Client.PutItem(ctx, in, opts...)
}

// Trips counts a client's calls to DynamoDB by operation (GetItem, PutItem,
// ...), as they go over the wire, retries included. A call that asks for a
// strongly consistent read counts under its operation and " consistent".
type Trips struct {
	mu    sync.Mutex
	calls map[string]int
	base  *http.Client
}

// Do sends req and counts it by its X-Amz-Target operation.
func (c *Trips) Do(req *http.Request) (*http.Response, error) {
	op := req.Header.Get("X-Amz-Target")
	if i := strings.LastIndexByte(op, '.'); i >= 0 {
		op = op[i+1:]
	}
	if req.Body != nil {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
		if bytes.Contains(body, []byte(`"ConsistentRead":true`)) {
			op += " consistent"
		}
	}
	c.mu.Lock()
	c.calls[op]++
	c.mu.Unlock()
	return c.base.Do(req)
}

// Take returns the calls counted since the last Take, and their total.
func (c *Trips) Take() (map[string]int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out, total := c.calls, 0
	for _, n := range out {
		total += n
	}
	c.calls = map[string]int{}
	return out, total
}

// CountingClient returns a client for the running dynalite whose calls trips counts.
func CountingClient(t testing.TB) (*dynamodb.Client, *Trips) {
	t.Helper()
	trips := &Trips{calls: map[string]int{}, base: &http.Client{}}
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(Endpoint(t)),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:   trips,
	}), trips
}

// ErrDied is what a Dying client answers from the call its process died at on.
var ErrDied = errors.New("the process died (dynamotest.Dying)")

// Dying is a DynamoDB client in a process that dies at its At-th call (from
// 1): that call is made and its answer lost, and every later call fails
// without being made; with At 0 the first call fails unmade. It stands for
// a Lambda function that timed out or crashed after a write.
type Dying struct {
	API   *dynamodb.Client
	At    int
	calls atomic.Int64
}

// die makes a call as the dying process would.
func die[In, Out any](ctx context.Context, d *Dying, in In, call func(context.Context, In, ...func(*dynamodb.Options)) (Out, error), opts []func(*dynamodb.Options)) (Out, error) {
	var zero Out
	n := int(d.calls.Add(1))
	if n > d.At {
		return zero, ErrDied
	}
	out, err := call(ctx, in, opts...)
	if n == d.At {
		return zero, ErrDied
	}
	return out, err
}

// GetItem reads as the process would.
func (d *Dying) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return die(ctx, d, in, d.API.GetItem, opts)
}

// BatchGetItem reads as the process would.
func (d *Dying) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return die(ctx, d, in, d.API.BatchGetItem, opts)
}

// PutItem writes as the process would.
func (d *Dying) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return die(ctx, d, in, d.API.PutItem, opts)
}

// UpdateItem writes as the process would.
func (d *Dying) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return die(ctx, d, in, d.API.UpdateItem, opts)
}

// TransactWriteItems writes as the process would.
func (d *Dying) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return die(ctx, d, in, d.API.TransactWriteItems, opts)
}

// StreamImage is item as a DynamoDB stream record carries it (Keys,
// NewImage): what Lambda hands a stream's consumer.
func StreamImage(item map[string]ddbtypes.AttributeValue) map[string]awsevents.DynamoDBAttributeValue {
	if item == nil {
		return nil
	}
	out := make(map[string]awsevents.DynamoDBAttributeValue, len(item))
	for k, v := range item {
		out[k] = value(v)
	}
	return out
}

func value(v ddbtypes.AttributeValue) awsevents.DynamoDBAttributeValue {
	switch v := v.(type) {
	case *ddbtypes.AttributeValueMemberS:
		return awsevents.NewStringAttribute(v.Value)
	case *ddbtypes.AttributeValueMemberN:
		return awsevents.NewNumberAttribute(v.Value)
	case *ddbtypes.AttributeValueMemberBOOL:
		return awsevents.NewBooleanAttribute(v.Value)
	case *ddbtypes.AttributeValueMemberB:
		return awsevents.NewBinaryAttribute(v.Value)
	case *ddbtypes.AttributeValueMemberNULL:
		return awsevents.NewNullAttribute()
	case *ddbtypes.AttributeValueMemberSS:
		return awsevents.NewStringSetAttribute(v.Value)
	case *ddbtypes.AttributeValueMemberNS:
		return awsevents.NewNumberSetAttribute(v.Value)
	case *ddbtypes.AttributeValueMemberBS:
		return awsevents.NewBinarySetAttribute(v.Value)
	case *ddbtypes.AttributeValueMemberL:
		l := make([]awsevents.DynamoDBAttributeValue, len(v.Value))
		for i, x := range v.Value {
			l[i] = value(x)
		}
		return awsevents.NewListAttribute(l)
	case *ddbtypes.AttributeValueMemberM:
		return awsevents.NewMapAttribute(StreamImage(v.Value))
	}
	panic(fmt.Sprintf("attribute value of type %T", v))
}
