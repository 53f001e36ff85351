package lambdaenv

import (
	"context"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// AWS builds the SDK configuration from what Lambda sets in every function's
// environment: the region (AWS_REGION) and the execution role's credentials
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); and, as
// the SDK reads them, AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> (the
// tests point the functions at dynalite with them). It fails naming a
// missing variable.
//
// It is what config.LoadDefaultConfig makes of that environment, without
// linking the config package: its shared-file, SSO, STS, IMDS and process
// credential providers are never used in Lambda, and their packages took a
// cold start about a millisecond to load and initialise (make loadtest).
func AWS() (aws.Config, error) {
	env, err := Require("AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
	if err != nil {
		return aws.Config{}, err
	}
	cfg := aws.Config{
		Region: env["AWS_REGION"],
		Credentials: aws.NewCredentialsCache(credentials.StaticCredentialsProvider{Value: aws.Credentials{
			AccessKeyID:     env["AWS_ACCESS_KEY_ID"],
			SecretAccessKey: env["AWS_SECRET_ACCESS_KEY"],
			SessionToken:    os.Getenv("AWS_SESSION_TOKEN"),
			AccountID:       os.Getenv("AWS_ACCOUNT_ID"),
			Source:          "lambdaenv",
		}}),
		ConfigSources:              []any{serviceEndpoints{}},
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	}
	if v := os.Getenv("AWS_ENDPOINT_URL"); v != "" {
		cfg.BaseEndpoint = &v
	}
	instrumentAWS(&cfg) // spans of every AWS call, when traces are exported
	return cfg, nil
}

// serviceEndpoints gives each client its AWS_ENDPOINT_URL_<SERVICE>: a
// client asks its configuration's sources for one by its SDK id ("DynamoDB",
// "EventBridge"), as config.EnvConfig answers.
type serviceEndpoints struct{}

func (serviceEndpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v := os.Getenv("AWS_ENDPOINT_URL_" + strings.ToUpper(strings.ReplaceAll(sdkID, " ", "_")))
	return v, v != "", nil
}
