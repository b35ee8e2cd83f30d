package app

import "github.com/stepwell/stepwell/integrations/s3items"

// mapItemStore returns where Distributed Maps read their ItemReader's
// items and write their ResultWriter's results: S3, reached as the AWS
// service tasks reach it (c.AWS: --aws-endpoint s3=URL,
// AWS_ENDPOINT_URL_S3, …, the region and the standard credential chain).
func mapItemStore(c Config) (*s3items.Store, error) {
	aws, err := awsIntegration(c, nil)
	if err != nil {
		return nil, err
	}
	return s3items.New(aws), nil
}

// MapItems returns the S3 item reader and result writer of Distributed
// Maps for an engine without a server (stepwell run): give it to
// engine.Config as Items and Results.
func MapItems(c Config) (*s3items.Store, error) { return mapItemStore(c) }
