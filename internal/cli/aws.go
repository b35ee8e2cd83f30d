package cli

import (
	"github.com/stepwell/stepwell/internal/app"
)

// awsEndpointUsage documents --aws-endpoint (serve and run).
const awsEndpointUsage = "endpoint of an AWS service that tasks call, as `SERVICE=URL` (SERVICE: sqs, sns, dynamodb, eventbridge, s3, " +
	"secretsmanager, ssm, kms, sts, lambda, sfn; URL alone or *=URL: every service), e.g. a local emulator; repeatable; " +
	"overrides AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE> and Step Functions Local's SQS_ENDPOINT-style variables"

// awsEndpoints is the flag.Value of the repeatable --aws-endpoint flag:
// each value sets one service's endpoint in the map, over what the
// environment set.
type awsEndpoints struct{ m *map[string]string }

func (v awsEndpoints) String() string {
	if v.m == nil || len(*v.m) == 0 {
		return ""
	}
	return app.FormatAWSEndpoints(*v.m)
}

func (v awsEndpoints) Set(s string) error {
	service, url, err := app.ParseAWSEndpoint(s)
	if err != nil {
		return err
	}
	if *v.m == nil {
		*v.m = make(map[string]string)
	}
	(*v.m)[service] = url
	return nil
}

// getenv reads an environment variable through m.Getenv ("" when unset).
func (m *Main) getenv(name string) string {
	v, _ := m.Getenv(name)
	return v
}
