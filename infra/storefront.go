package main

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfront"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfrontorigins"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3deployment"
	"github.com/aws/jsii-runtime-go"

	"github.com/eventshop/eventshop/web"
)

// storefront is the storefront on AWS: its files in a private bucket that
// only CloudFront reads, users signed in by Cognito's hosted sign-in
// (authorization code with PKCE, for a client that keeps no secret).
type storefront struct {
	url    *string // https://<distribution domain>
	client awscognito.UserPoolClient
	domain awscognito.UserPoolDomain
	bucket awss3.Bucket
	dist   awscloudfront.Distribution
	dir    string
}

// APIPath is where the distribution serves the API, beside the pages: the
// pages call their own origin, so their CSP names no API host and the API
// needs no CORS.
const APIPath = "/api"

// apiPathFunction is the CloudFront Function (cloudfront-js-2.0) that takes
// APIPath off a request's path before it goes to API Gateway, whose routes
// start at /; the query string is apart from the path, and stays.
var apiPathFunction = `function handler(event) {
  var request = event.request;
  request.uri = request.uri.slice(` + strconv.Itoa(len(APIPath)) + `) || '/';
  return request;
}`

// storefront declares the bucket, the distribution (the pages, with their
// security headers, and api under APIPath), the user pool's hosted sign-in
// domain and the pages' client.
func (s *shop) storefront(users awscognito.UserPool, dir string, api awsapigatewayv2.HttpApi) *storefront {
	bucket := awss3.NewBucket(s.stack, jsii.String("StorefrontBucket"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
	suppress(bucket, "AwsSolutions-S1", "The bucket holds only the storefront's static files; CloudFront is its only reader, through origin access control")
	domain := users.AddDomain(jsii.String("SignIn"), &awscognito.UserPoolDomainOptions{
		CognitoDomain: &awscognito.CognitoDomainOptions{DomainPrefix: awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("eventshop-"), s.stack.Account()})},
	})
	// The pages call their own origin (the API under APIPath) and the hosted
	// sign-in's token endpoint, nothing else.
	headers := awscloudfront.NewResponseHeadersPolicy(s.stack, jsii.String("StorefrontHeaders"), &awscloudfront.ResponseHeadersPolicyProps{
		SecurityHeadersBehavior: &awscloudfront.ResponseSecurityHeadersBehavior{
			ContentSecurityPolicy: &awscloudfront.ResponseHeadersContentSecurityPolicy{
				ContentSecurityPolicy: jsii.String(web.CSP(" " + *domain.BaseUrl(nil))), Override: jsii.Bool(true)},
			ContentTypeOptions: &awscloudfront.ResponseHeadersContentTypeOptions{Override: jsii.Bool(true)},
			FrameOptions:       &awscloudfront.ResponseHeadersFrameOptions{FrameOption: awscloudfront.HeadersFrameOption_DENY, Override: jsii.Bool(true)},
			ReferrerPolicy:     &awscloudfront.ResponseHeadersReferrerPolicy{ReferrerPolicy: awscloudfront.HeadersReferrerPolicy_NO_REFERRER, Override: jsii.Bool(true)},
			StrictTransportSecurity: &awscloudfront.ResponseHeadersStrictTransportSecurity{
				AccessControlMaxAge: awscdk.Duration_Days(jsii.Number(365)), IncludeSubdomains: jsii.Bool(true), Override: jsii.Bool(true)},
		},
		CustomHeadersBehavior: &awscloudfront.ResponseCustomHeadersBehavior{CustomHeaders: &[]*awscloudfront.ResponseCustomHeader{
			{Header: jsii.String("Permissions-Policy"), Value: jsii.String(web.PermissionsPolicy), Override: jsii.Bool(true)},
		}},
	})
	stripAPIPath := awscloudfront.NewFunction(s.stack, jsii.String("ApiPathFunction"), &awscloudfront.FunctionProps{
		Code:    awscloudfront.FunctionCode_FromInline(jsii.String(apiPathFunction)),
		Runtime: awscloudfront.FunctionRuntime_JS_2_0(),
		Comment: jsii.String("Takes " + APIPath + " off the path before the request goes to API Gateway"),
	})
	apiHost := awscdk.Fn_Select(jsii.Number(2), awscdk.Fn_Split(jsii.String("/"), api.ApiEndpoint(), nil)) // https://<host>
	dist := awscloudfront.NewDistribution(s.stack, jsii.String("Storefront"), &awscloudfront.DistributionProps{
		DefaultRootObject: jsii.String("index.html"),
		DefaultBehavior: &awscloudfront.BehaviorOptions{
			Origin:                awscloudfrontorigins.S3BucketOrigin_WithOriginAccessControl(bucket, nil),
			ViewerProtocolPolicy:  awscloudfront.ViewerProtocolPolicy_REDIRECT_TO_HTTPS,
			ResponseHeadersPolicy: headers,
		},
		// The API, uncached: every header but Host goes to API Gateway (with
		// caching disabled, Authorization among them).
		AdditionalBehaviors: &map[string]*awscloudfront.BehaviorOptions{
			APIPath + "/*": {
				Origin:                awscloudfrontorigins.NewHttpOrigin(apiHost, &awscloudfrontorigins.HttpOriginProps{ProtocolPolicy: awscloudfront.OriginProtocolPolicy_HTTPS_ONLY}),
				ViewerProtocolPolicy:  awscloudfront.ViewerProtocolPolicy_HTTPS_ONLY,
				AllowedMethods:        awscloudfront.AllowedMethods_ALLOW_ALL(),
				CachePolicy:           awscloudfront.CachePolicy_CACHING_DISABLED(),
				OriginRequestPolicy:   awscloudfront.OriginRequestPolicy_ALL_VIEWER_EXCEPT_HOST_HEADER(),
				ResponseHeadersPolicy: headers,
				FunctionAssociations: &[]*awscloudfront.FunctionAssociation{{
					Function: stripAPIPath, EventType: awscloudfront.FunctionEventType_VIEWER_REQUEST,
				}},
			},
		},
		MinimumProtocolVersion: awscloudfront.SecurityPolicyProtocol_TLS_V1_2_2021,
	})
	suppress(dist, "AwsSolutions-CFR1", "A shop sells where its owner decides: add a GeoRestriction for the markets it serves")
	suppress(dist, "AwsSolutions-CFR2", "Static files only (the API has its own throttling); attach a WAF web ACL where the traffic warrants its cost")
	suppress(dist, "AwsSolutions-CFR3", "Access logs of static files; enable EnableLogging with a log bucket where they are wanted")
	suppress(dist, "AwsSolutions-CFR4", "The default CloudFront domain's certificate allows TLSv1 by CloudFront's own rule; with a custom domain and its certificate, MinimumProtocolVersion TLSv1.2_2021 applies")
	url := jsii.String("https://" + *dist.DistributionDomainName())

	client := users.AddClient(jsii.String("WebClient"), &awscognito.UserPoolClientOptions{
		GenerateSecret: jsii.Bool(false), // a browser keeps no secret: PKCE instead
		AuthFlows:      &awscognito.AuthFlow{UserSrp: jsii.Bool(true)},
		OAuth: &awscognito.OAuthSettings{
			Flows:        &awscognito.OAuthFlows{AuthorizationCodeGrant: jsii.Bool(true)},
			Scopes:       &[]awscognito.OAuthScope{awscognito.OAuthScope_OPENID(), awscognito.OAuthScope_PROFILE()},
			CallbackUrls: &[]*string{jsii.String(*url + "/")},
			LogoutUrls:   &[]*string{jsii.String(*url + "/")},
		},
		PreventUserExistenceErrors: jsii.Bool(true),
	})
	awscdk.NewCfnOutput(s.stack, jsii.String("StorefrontUrl"), &awscdk.CfnOutputProps{Value: url, Description: jsii.String("The storefront, on CloudFront")})
	return &storefront{url: url, client: client, domain: domain, bucket: bucket, dist: dist, dir: dir}
}

// deploy copies the pages to the bucket with their config.json (the API's
// path and the sign-in's ids, known at deploy time), leaving out the console,
// whose admin API only the local shop has, and refreshes CloudFront's cache.
func (sf *storefront) deploy(s *shop) {
	// The same fields the local shop serves, as JSON-shaped values: their
	// tokens become the deployed values.
	var cfg map[string]any
	b, _ := json.Marshal(web.Config{
		APIURL: APIPath, SignIn: "cognito", Currency: web.DefaultCurrency,
		Cognito: &web.Cognito{Domain: *sf.domain.BaseUrl(nil), ClientID: *sf.client.UserPoolClientId(), RedirectURI: *sf.url + "/"},
	})
	if err := json.Unmarshal(b, &cfg); err != nil {
		panic(err)
	}
	awss3deployment.NewBucketDeployment(s.stack, jsii.String("StorefrontFiles"), &awss3deployment.BucketDeploymentProps{
		DestinationBucket: sf.bucket,
		Sources: &[]awss3deployment.ISource{
			awss3deployment.Source_Asset(jsii.String(sf.dir), nil),
			awss3deployment.Source_JsonData(jsii.String("config.json"), cfg, nil),
		},
		Exclude:           jsii.Strings("console.html", "assets/console.js"),
		Distribution:      sf.dist,
		DistributionPaths: jsii.Strings("/*"),
	})
	// The deployment runs as a Lambda-backed custom resource the CDK writes.
	for _, c := range *s.stack.Node().Children() {
		if strings.HasPrefix(*c.Node().Id(), "Custom::CDKBucketDeployment") {
			suppress(c, "AwsSolutions-IAM4", "The CDK's own bucket-deployment function uses the basic execution role for its logs")
			suppress(c, "AwsSolutions-IAM5", "The CDK's own bucket-deployment function reads the asset and writes every key of the storefront's bucket")
			suppress(c, "AwsSolutions-L1", "The CDK chooses the bucket-deployment function's runtime")
		}
	}
}
