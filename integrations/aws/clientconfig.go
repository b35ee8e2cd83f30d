package awsint

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
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
	return i.awsConfig(ctx, svc, i.region(region), "")
}
