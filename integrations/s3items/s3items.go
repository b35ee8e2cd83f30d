// Package s3items reads the items of Distributed Map ItemReaders from S3
// and exports the results of their ResultWriters to S3: the engine's
// ItemReader and ResultWriter over the AWS SDK for Go v2's S3 client,
// configured as the AWS service integrations configure theirs
// (integrations/aws: endpoint, region, credentials).
//
// Readers (ItemReader Resource arn:aws:states:::s3:getObject with
// ReaderConfig.InputType JSON, JSONL or CSV; arn:aws:states:::s3:listObjectsV2)
// stream the object: items are decoded as the body arrives and handed on
// one by one, so an object is never held in memory whole. The writer
// (arn:aws:states:::s3:putObject) writes the files AWS writes:
// <Prefix>/<map run id>/manifest.json and SUCCEEDED_0.json, FAILED_0.json
// and PENDING_0.json with one record per child execution.
package s3items

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/value"
)

// Configs gives the SDK configuration of a service's clients in a region
// (*awsint.Integration's ClientConfig).
type Configs interface {
	ClientConfig(ctx context.Context, key, region string) (aws.Config, error)
}

// Store reads items from and writes results to S3. It implements
// engine.ItemReader and engine.ResultWriter; it is safe for concurrent use.
type Store struct {
	cfgs Configs

	mu      sync.Mutex
	clients map[string]*s3.Client // by region
}

var (
	_ engine.ItemReader   = (*Store)(nil)
	_ engine.ResultWriter = (*Store)(nil)
)

// New returns a Store whose S3 clients are configured by cfgs.
func New(cfgs Configs) *Store {
	return &Store{cfgs: cfgs, clients: make(map[string]*s3.Client)}
}

// client returns the S3 client of region.
func (s *Store) client(ctx context.Context, region string) (*s3.Client, error) {
	s.mu.Lock()
	c, ok := s.clients[region]
	s.mu.Unlock()
	if ok {
		return c, nil
	}
	ac, err := s.cfgs.ClientConfig(ctx, "s3", region)
	if err != nil {
		return nil, err
	}
	// Emulators serve buckets by path (http://host:port/bucket/key).
	c = s3.NewFromConfig(ac, func(o *s3.Options) { o.UsePathStyle = ac.BaseEndpoint != nil })
	s.mu.Lock()
	if prev, ok := s.clients[region]; ok {
		c = prev
	} else {
		s.clients[region] = c
	}
	s.mu.Unlock()
	return c, nil
}

// str returns the string member key of args ("" when absent or not a
// string).
func str(args *value.Object, key string) string {
	if args == nil {
		return ""
	}
	v, _ := args.Get(key)
	s, _ := v.(string)
	return s
}

// serviceFault words an S3 error as the cause of a fault named name:
// "<message> (Service: S3, Status Code: <code>, Request ID: <id>)", as the
// AWS SDK for Java that Step Functions uses words them.
func serviceFault(name string, err error) *fault.Error {
	if fe, ok := fault.As(err); ok {
		return fe
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		msg := ae.ErrorMessage()
		if msg == "" {
			msg = ae.ErrorCode()
		}
		status := 0
		var re interface{ HTTPStatusCode() int }
		if errors.As(err, &re) {
			status = re.HTTPStatusCode()
		}
		return fault.New(name, fmt.Sprintf("%s (Service: S3, Status Code: %d, Error Code: %s)", msg, status, ae.ErrorCode()))
	}
	return fault.New(name, err.Error())
}
