package canary

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
)

type refusal struct{}

func (refusal) Error() string  { return "refused" }
func (refusal) Expected() bool { return true }

func TestOfTalliesEachKindOfInvocation(t *testing.T) {
	three := awsevents.SQSEvent{Records: make([]awsevents.SQSMessage, 3)}
	stream := awsevents.DynamoDBEvent{Records: make([]awsevents.DynamoDBEventRecord, 4)}
	for name, c := range map[string]struct {
		in, out any
		err     error
		want    Tally
	}{
		"a batch with one failure":                     {three, awsevents.SQSEventResponse{BatchItemFailures: []awsevents.SQSBatchItemFailure{{ItemIdentifier: "a"}}}, nil, Tally{3, 1}},
		"a batch whose invocation fails":               {three, awsevents.SQSEventResponse{}, errors.New("boom"), Tally{3, 3}},
		"a stream batch failed from its second record": {stream, awsevents.DynamoDBEventResponse{BatchItemFailures: make([]awsevents.DynamoDBBatchItemFailure, 3)}, nil, Tally{4, 3}},
		"a request answered 200":                       {awsevents.APIGatewayV2HTTPRequest{}, awsevents.APIGatewayV2HTTPResponse{StatusCode: 200}, nil, Tally{1, 0}},
		"a request answered 404":                       {awsevents.APIGatewayV2HTTPRequest{}, awsevents.APIGatewayV2HTTPResponse{StatusCode: 404}, nil, Tally{1, 0}},
		"a request answered 503":                       {awsevents.APIGatewayV2HTTPRequest{}, awsevents.APIGatewayV2HTTPResponse{StatusCode: 503}, nil, Tally{1, 1}},
		"a request not answered":                       {awsevents.APIGatewayV2HTTPRequest{}, awsevents.APIGatewayV2HTTPResponse{}, errors.New("boom"), Tally{1, 1}},
		"a refusal by design":                          {awsevents.CognitoEventUserPoolsPreSignup{}, nil, refusal{}, Tally{1, 0}},
		"any other error":                              {struct{}{}, nil, errors.New("boom"), Tally{1, 1}},
	} {
		if got := Of(c.in, c.out, c.err); got != c.want {
			t.Errorf("%s: %+v, want %+v", name, got, c.want)
		}
	}
}

// A line is EMF as CloudWatch's specification defines it: the metrics'
// names and units under _aws, at one dimension set whose values are the
// line's own members.
func TestLineIsEmbeddedMetricFormat(t *testing.T) {
	var b bytes.Buffer
	if err := Line(&b, "fn", "7", Tally{5, 2}, time.UnixMilli(1234)); err != nil {
		t.Fatal(err)
	}
	var got struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		Function string  `json:"faas.name"`
		Version  string  `json:"faas.version"`
		Handled  float64 `json:"eventshop.version.handled"`
		Failed   float64 `json:"eventshop.version.failed"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil || strings.Count(b.String(), "\n") != 1 {
		t.Fatalf("%q: %v", b.String(), err)
	}
	d := got.AWS.CloudWatchMetrics
	if got.AWS.Timestamp != 1234 || len(d) != 1 || d[0].Namespace != "EventShop" || len(d[0].Dimensions) != 1 ||
		strings.Join(d[0].Dimensions[0], ",") != FunctionID+","+VersionID || len(d[0].Metrics) != 2 ||
		got.Function != "fn" || got.Version != "7" || got.Handled != 5 || got.Failed != 2 {
		t.Fatalf("line %s", b.String())
	}
}

func TestGatesPerKind(t *testing.T) {
	f := Function{Name: "fn", Alias: "live", Version: "7"}
	for k, want := range map[Kind][]string{
		API: {"ErrorsAlarm", "FailureRateAlarm"}, Consumer: {"ErrorsAlarm", "FailureRateAlarm"}, Publisher: {"ErrorsAlarm", "FailureRateAlarm"},
		Trigger: {"FailureRateAlarm"}, Task: {"ErrorsAlarm"},
	} {
		var got []string
		for _, a := range Gates(k, f) {
			got = append(got, a.ID)
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%v: %v, want %v", k, got, want)
		}
	}
	errs := Gates(API, f)[0].Metrics[0]
	if errs.Dimensions["Resource"] != "fn:live" || errs.Dimensions["ExecutedVersion"] != "7" || errs.Dimensions["FunctionName"] != "fn" {
		t.Errorf("errors alarm dimensions %v", errs.Dimensions)
	}
}

// A failure ratio's value is its expression's: nothing without data, 0
// below MinHandled, the ratio from there.
func TestFailureRatioValue(t *testing.T) {
	a := Gates(Consumer, Function{"fn", "live", "2"})[1]
	for _, c := range []struct {
		values   map[string]float64
		want     float64
		has, bad bool
	}{
		{map[string]float64{}, 0, false, false},
		{map[string]float64{"handled": 2, "failed": 2}, 0, true, false},
		{map[string]float64{"handled": 3, "failed": 1}, 1.0 / 3, true, false},
		{map[string]float64{"handled": 4, "failed": 2}, 0.5, true, true},
	} {
		v, ok := a.Value(c.values)
		if v != c.want || ok != c.has || a.Breaches(v) != c.bad {
			t.Errorf("%v: %v %v (breaches %v), want %v %v %v", c.values, v, ok, a.Breaches(v), c.want, c.has, c.bad)
		}
	}
	if !strings.Contains(a.Expression, "handled >= 3") {
		t.Errorf("expression %q does not take MinHandled", a.Expression)
	}
}
