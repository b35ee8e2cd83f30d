package app

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	awsint "github.com/stepwell/stepwell/integrations/aws"
)

// AWSFromEnv reads where AWS services are from the environment with
// getenv: AWS_ENDPOINT_URL (every service), AWS_ENDPOINT_URL_<SERVICE>,
// Step Functions Local's SQS_ENDPOINT, SNS_ENDPOINT, … and the region
// (AWS_REGION, AWS_DEFAULT_REGION). Credentials are not read here: the
// integration takes them from the standard AWS chain when a task needs
// them.
func AWSFromEnv(getenv func(string) string) awsint.Config { return awsint.FromEnv(getenv) }

// ParseAWSEndpoint parses one --aws-endpoint value, SERVICE=URL (URL
// alone, or *=URL, for every service), into its Config.AWS.Endpoints key
// and URL.
func ParseAWSEndpoint(s string) (service, url string, err error) { return awsint.ParseEndpoint(s) }

// FormatAWSEndpoints describes endpoints for people, sorted by service:
// "*=URL,sqs=URL" ("*" is the default of every service), "none" when
// there is none; secrets in the URLs are masked (Redact).
func FormatAWSEndpoints(endpoints map[string]string) string {
	if len(endpoints) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(endpoints))
	for _, key := range slices.Sorted(maps.Keys(endpoints)) {
		name := key
		if name == "" {
			name = "*"
		}
		parts = append(parts, name+"="+Redact(endpoints[key]))
	}
	return strings.Join(parts, ",")
}

// validateAWSEndpoints checks each endpoint as a --aws-endpoint flag is
// checked (a known service, an http or https URL).
func validateAWSEndpoints(endpoints map[string]string) []error {
	var errs []error
	for _, key := range slices.Sorted(maps.Keys(endpoints)) {
		name := key
		if name == "" {
			name = "*"
		}
		if _, _, err := awsint.ParseEndpoint(name + "=" + endpoints[key]); err != nil {
			errs = append(errs, &FieldError{Field: "aws-endpoint", Value: name + "=" + Redact(endpoints[key]), Err: err})
		}
	}
	return errs
}

// awsIntegration builds the integration of the tasks that call AWS
// services (arn:aws:states:::sqs:…, aws-sdk:SERVICE:…) from c.AWS. The
// SDK's Lambda calls (aws-sdk:lambda:…) go to c.LambdaEndpoint unless an
// endpoint names the lambda service itself; its Step Functions calls
// (aws-sdk:sfn:…) go to sfn, the server's own API (nil without a server),
// unless an endpoint names the sfn service, as AWS calls its own Step
// Functions. With no endpoint and no credentials it still serves those
// tasks: they fail with States.Runtime saying what to set.
func awsIntegration(c Config, sfn http.Handler) (*awsint.Integration, error) {
	cfg := c.AWS
	cfg.Endpoints = maps.Clone(cfg.Endpoints)
	if _, ok := cfg.Endpoints["lambda"]; !ok && c.LambdaEndpoint != "" {
		if cfg.Endpoints == nil {
			cfg.Endpoints = make(map[string]string)
		}
		cfg.Endpoints["lambda"] = c.LambdaEndpoint
	}
	if sfn != nil {
		cfg.Local = maps.Clone(cfg.Local)
		if cfg.Local == nil {
			cfg.Local = make(map[string]http.Handler)
		}
		cfg.Local["sfn"] = sfn
	}
	cfg.HTTPClient = outboundClient(c, 0) // trusts --ca-bundle (security.go)
	aws, err := awsint.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("aws integration: %w", err)
	}
	return aws, nil
}

// ServeHTTP serves the server's own Step Functions API (once it exists),
// for the SDK integration's Step Functions calls.
func (l *localAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if l.srv == nil {
		http.Error(w, "the Step Functions API is not ready", http.StatusServiceUnavailable)
		return
	}
	l.srv.ServeHTTP(w, r)
}
