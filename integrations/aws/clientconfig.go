package awsint

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"
)

// ClientConfig returns the SDK configuration this integration's clients of
// the service with key ("s3", "sqs", …) use in region ("" for the
// configured or default one): the same endpoint resolution and
// credentials as its tasks, for other parts of Stepwell that call AWS
// services (the Distributed Map's S3 item reader and result writer).
func (i *Integration) ClientConfig(ctx context.Context, key, region string) (aws.Config, error) {
	svc := serviceNamed(key)
	if svc == nil {
		return aws.Config{}, fmt.Errorf("aws client config: unknown service %q", key)
	}
	if i.cfg.Region != "" {
		region = i.cfg.Region
	}
	if region == "" {
		region = "us-east-1"
	}
	endpoint := i.cfg.endpoint(svc.key)
	creds, err := i.credentials(ctx, svc, endpoint)
	if err != nil {
		return aws.Config{}, err
	}
	ac := aws.Config{Region: region, Credentials: creds, HTTPClient: i.cfg.HTTPClient, APIOptions: []func(*middleware.Stack) error{noValidation}}
	if endpoint != "" {
		ac.BaseEndpoint = aws.String(endpoint)
	}
	return ac, nil
}
