package awsint

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Config says where AWS services are and how to sign requests to them.
type Config struct {
	// Endpoints maps a service key to a base URL. Keys are the AWS SDKs'
	// service identifiers as used in AWS_ENDPOINT_URL_<SERVICE>, lowercase
	// ("sqs", "sns", "dynamodb", "eventbridge", "s3", "secretsmanager",
	// "ssm", "kms", "sts", "lambda", "sfn"); "" is the default for every
	// service (AWS_ENDPOINT_URL).
	Endpoints map[string]string
	// Region is the default region (AWS_REGION, or the profile's); the
	// execution's region when empty.
	Region string
	// Static, when set, signs every request; otherwise the standard AWS
	// credential chain does (environment, shared config and profile, …).
	Static *aws.Credentials
	// Local maps a service key to a handler that serves the service in
	// this process (the server's own Step Functions API for "sfn"): its
	// calls go to the handler, without a network, unless Endpoints names
	// an endpoint for that very key (the default endpoint "" does not
	// override it).
	Local map[string]http.Handler
	// HTTPClient sends the requests to the services (nil: the SDK's
	// default); the server gives one that trusts its --ca-bundle.
	HTTPClient aws.HTTPClient
}

// endpointEnv lists, per service key, the environment variables naming its
// endpoint: AWS_ENDPOINT_URL_<SERVICE> as the AWS SDKs spell it (the
// service id in upper case, spaces as underscores: SECRETS_MANAGER), then
// the names AWS Step Functions Local documents (SQS_ENDPOINT, SNS_ENDPOINT,
// DYNAMODB_ENDPOINT, LAMBDA_ENDPOINT, STEP_FUNCTIONS_ENDPOINT), in that
// order. Services not listed read AWS_ENDPOINT_URL_<KEY>.
var endpointEnv = map[string][]string{
	"sqs":            {"AWS_ENDPOINT_URL_SQS", "SQS_ENDPOINT"},
	"sns":            {"AWS_ENDPOINT_URL_SNS", "SNS_ENDPOINT"},
	"dynamodb":       {"AWS_ENDPOINT_URL_DYNAMODB", "DYNAMODB_ENDPOINT"},
	"secretsmanager": {"AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL_SECRETSMANAGER"},
	"sts":            {"AWS_ENDPOINT_URL_STS"},
	"lambda":         {"AWS_ENDPOINT_URL_LAMBDA", "LAMBDA_ENDPOINT"},
	"sfn":            {"AWS_ENDPOINT_URL_SFN", "STEP_FUNCTIONS_ENDPOINT"},
}

// FromEnv builds a Config from environment variables: AWS_ENDPOINT_URL
// (every service), AWS_ENDPOINT_URL_<SERVICE> and Step Functions Local's
// names (SQS_ENDPOINT, SNS_ENDPOINT, DYNAMODB_ENDPOINT, LAMBDA_ENDPOINT,
// STEP_FUNCTIONS_ENDPOINT) for the services this package knows, and the
// region from AWS_REGION or AWS_DEFAULT_REGION. Credentials are left to the
// standard chain. getenv is os.Getenv in production.
func FromEnv(getenv func(string) string) Config {
	var c Config
	set := func(key, url string) {
		if c.Endpoints == nil {
			c.Endpoints = make(map[string]string)
		}
		c.Endpoints[key] = url
	}
	if u := getenv("AWS_ENDPOINT_URL"); u != "" {
		set("", u)
	}
	for _, key := range serviceKeys() {
		names := endpointEnv[key]
		if names == nil {
			names = []string{"AWS_ENDPOINT_URL_" + strings.ToUpper(key)}
		}
		for _, name := range names {
			if u := getenv(name); u != "" {
				set(key, u)
				break
			}
		}
	}
	c.Region = getenv("AWS_REGION")
	if c.Region == "" {
		c.Region = getenv("AWS_DEFAULT_REGION")
	}
	return c
}

// ParseEndpoint parses one `--aws-endpoint service=url` flag value into
// (service, url). The service is a key of Config.Endpoints ("" or "*" for
// every service: `--aws-endpoint http://…` alone or `--aws-endpoint
// '*=http://…'`); the URL must be absolute http or https.
func ParseEndpoint(s string) (service, url string, err error) {
	service, url, ok := strings.Cut(s, "=")
	if !ok {
		service, url = "", s
	}
	service = strings.ToLower(strings.TrimSpace(service))
	if service == "*" {
		service = ""
	}
	if service != "" && !knownKey(service) {
		return "", "", fmt.Errorf("aws endpoint %q: unknown service %q (known: %s)", s, service, strings.Join(serviceKeys(), ", "))
	}
	if err := checkURL(url); err != nil {
		return "", "", fmt.Errorf("aws endpoint %q: %w", s, err)
	}
	return service, url, nil
}

// checkURL reports whether u is an absolute http(s) URL with a host.
func checkURL(u string) error {
	p, err := url.Parse(u)
	if err != nil {
		return err
	}
	if (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", u)
	}
	return nil
}

// knownKey reports whether key is a service this package can call.
func knownKey(key string) bool {
	_, ok := endpointEnv[key]
	if ok {
		return true
	}
	for _, s := range services {
		if s.key == key {
			return true
		}
	}
	return false
}

// serviceKeys returns the endpoint keys of every service, sorted.
func serviceKeys() []string {
	seen := make(map[string]bool)
	for k := range endpointEnv {
		seen[k] = true
	}
	for _, s := range services {
		seen[s.key] = true
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// endpoint returns the configured endpoint of the service with key, or "".
func (c *Config) endpoint(key string) string {
	if u, ok := c.Endpoints[key]; ok && u != "" {
		return u
	}
	return c.Endpoints[""]
}
