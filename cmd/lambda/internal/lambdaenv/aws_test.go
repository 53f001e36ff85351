package lambdaenv

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
)

// lambdaEnvironment sets what Lambda sets in a function's environment.
func lambdaEnvironment(t *testing.T) {
	for k, v := range map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_SESSION_TOKEN": "token", "AWS_ACCOUNT_ID": "", "AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_DYNAMODB": "", "AWS_ENDPOINT_URL_EVENTBRIDGE": ""} {
		t.Setenv(k, v)
	}
}

func TestAWSTakesTheRegionAndTheRolesCredentials(t *testing.T) {
	lambdaEnvironment(t)
	t.Setenv("AWS_ACCOUNT_ID", "123456789012")
	cfg, err := AWS()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" {
		t.Errorf("region %q, want eu-west-1", cfg.Region)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret", SessionToken: "token", AccountID: "123456789012", Source: "lambdaenv"}
	if creds != want {
		t.Errorf("credentials %+v, want %+v", creds, want)
	}
	if db := dynamodb.NewFromConfig(cfg).Options(); db.BaseEndpoint != nil || db.Region != "eu-west-1" {
		t.Errorf("DynamoDB client: endpoint %v, region %q; want the service's own, eu-west-1", db.BaseEndpoint, db.Region)
	}
}

// The tests point a function's clients elsewhere as the SDK's own
// configuration does: one endpoint for every service, or one per service.
func TestAWSTakesEndpointsFromTheEnvironment(t *testing.T) {
	endpoint := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	for _, c := range []struct {
		all, dynamo, bus    string
		wantDynamo, wantBus string
	}{
		{"", "http://dynamo", "", "http://dynamo", ""},
		{"", "http://dynamo", "http://bus", "http://dynamo", "http://bus"},
		{"http://all", "", "", "http://all", "http://all"},
		{"http://all", "", "http://bus", "http://all", "http://bus"},
	} {
		lambdaEnvironment(t)
		t.Setenv("AWS_ENDPOINT_URL", c.all)
		t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", c.dynamo)
		t.Setenv("AWS_ENDPOINT_URL_EVENTBRIDGE", c.bus)
		cfg, err := AWS()
		if err != nil {
			t.Fatal(err)
		}
		dynamo := endpoint(dynamodb.NewFromConfig(cfg).Options().BaseEndpoint)
		bus := endpoint(eventbridge.NewFromConfig(cfg).Options().BaseEndpoint)
		if dynamo != c.wantDynamo || bus != c.wantBus {
			t.Errorf("AWS_ENDPOINT_URL %q, _DYNAMODB %q, _EVENTBRIDGE %q: DynamoDB %q, EventBridge %q; want %q, %q",
				c.all, c.dynamo, c.bus, dynamo, bus, c.wantDynamo, c.wantBus)
		}
	}
}

func TestAWSNamesWhatIsMissing(t *testing.T) {
	lambdaEnvironment(t)
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	_, err := AWS()
	if err == nil || !strings.Contains(err.Error(), "AWS_REGION, AWS_SECRET_ACCESS_KEY") {
		t.Fatalf("AWS() without a region or secret: %v; want an error naming both", err)
	}
}
