package app

import (
	"os"

	awsint "github.com/stepwell/stepwell/integrations/aws"
	"github.com/stepwell/stepwell/integrations/s3items"
)

// mapItemStore returns where Distributed Maps read their ItemReader's
// items and write their ResultWriter's results: S3, reached as the AWS
// service integrations reach it (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL,
// S3_ENDPOINT, the region and the standard credential chain).
func mapItemStore() (*s3items.Store, error) {
	aws, err := awsint.New(awsint.FromEnv(os.Getenv))
	if err != nil {
		return nil, err
	}
	return s3items.New(aws), nil
}
