// Package lambda runs Task states whose resource is an AWS Lambda function,
// by calling the standard Lambda Invoke API
// (POST /2015-03-31/functions/{FunctionName}/invocations) at a configured
// endpoint, as the AWS SDK's Lambda client does with a custom endpoint. That
// is what SAM local, LocalStack and other Lambda emulators expose.
//
// Two resource forms are handled:
//
//   - a function ARN, arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
//     (the "legacy" form): the task input is the payload and the result is
//     the function's returned JSON;
//   - arn:aws:states:::lambda:invoke (the optimized integration): the task
//     input holds FunctionName, Payload, Qualifier, InvocationType, LogType
//     and ClientContext, and the result is the Invoke response shaped as
//     Step Functions shows it ({ExecutedVersion, Payload, SdkHttpMetadata,
//     SdkResponseMetadata, StatusCode}).
//
// Failures are *fault.Error values named as AWS names them: the function's
// errorType for function errors, Lambda.<ErrorCode> for service errors and
// Lambda.SdkClientException when the endpoint cannot be reached.
package lambda

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
)

// DefaultMaxResultBytes is Step Functions' payload limit (256 KiB), applied
// to the bytes a function returns.
const DefaultMaxResultBytes = 262144

// Invoker calls Lambda functions through the Lambda Invoke API. It
// implements engine.Invoker. The exported fields may be changed before the
// first Invoke; an Invoker is safe for concurrent use afterwards.
type Invoker struct {
	// Endpoint is the base URL of the Lambda API, e.g. http://127.0.0.1:3001.
	Endpoint string
	// Client sends the requests.
	Client *http.Client
	// MaxResultBytes is the largest function result accepted; larger
	// results fail with States.DataLimitExceeded. Zero means no limit.
	MaxResultBytes int
	// AccessKeyID and SecretAccessKey sign requests (AWS Signature V4).
	// Local Lambda emulators accept any credentials; the defaults are
	// placeholders.
	AccessKeyID     string
	SecretAccessKey string
	// DefaultRegion is used for signing when neither the task nor the
	// function ARN names a region.
	DefaultRegion string

	now func() time.Time
}

var _ engine.Invoker = (*Invoker)(nil)

// New returns an Invoker that calls the Lambda API at endpoint (a base URL
// such as http://127.0.0.1:3001) with client, or with a pooled client of its
// own when client is nil. Requests carry no client-side timeout: the task's
// context bounds them.
func New(endpoint string, client *http.Client) *Invoker {
	if client == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = 256
		t.MaxIdleConnsPerHost = 64
		client = &http.Client{Transport: t}
	}
	return &Invoker{
		Endpoint:        strings.TrimRight(endpoint, "/"),
		Client:          client,
		MaxResultBytes:  DefaultMaxResultBytes,
		AccessKeyID:     "stepwell",
		SecretAccessKey: "stepwell",
		DefaultRegion:   "us-east-1",
		now:             time.Now,
	}
}

// Resource kinds.
const (
	kindNone = iota
	kindFunctionARN
	kindInvoke
	kindInvokeWaitForTaskToken
)

// Handles reports whether resource is one this package runs: a Lambda
// function ARN, arn:aws:states:::lambda:invoke or its .waitForTaskToken
// variant (which Invoke rejects for now).
func Handles(resource string) bool { return kindOf(resource) != kindNone }

func kindOf(resource string) int {
	if _, ok := parseFunctionARN(resource); ok {
		return kindFunctionARN
	}
	// arn:<partition>:states:::lambda:invoke[.waitForTaskToken]
	rest, ok := strings.CutPrefix(resource, "arn:")
	if !ok {
		return kindNone
	}
	i := strings.IndexByte(rest, ':')
	if i < 1 {
		return kindNone
	}
	switch rest[i+1:] {
	case "states:::lambda:invoke":
		return kindInvoke
	case "states:::lambda:invoke.waitForTaskToken":
		return kindInvokeWaitForTaskToken
	}
	return kindNone
}

// functionARN is a parsed arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER].
type functionARN struct {
	region, name, qualifier string
}

func parseFunctionARN(s string) (functionARN, bool) {
	parts := strings.Split(s, ":")
	if len(parts) < 7 || len(parts) > 8 || parts[0] != "arn" || parts[1] == "" ||
		parts[2] != "lambda" || parts[5] != "function" || parts[6] == "" {
		return functionARN{}, false
	}
	f := functionARN{region: parts[3], name: parts[6]}
	if len(parts) == 8 {
		if parts[7] == "" {
			return functionARN{}, false
		}
		f.qualifier = parts[7]
	}
	return f, true
}

// Invoke runs the task. The result is a value (see package value); errors
// are *fault.Error, except when ctx ends first, which returns ctx's error.
func (inv *Invoker) Invoke(ctx context.Context, t *engine.Task) (any, error) {
	switch kindOf(t.Resource) {
	case kindFunctionARN:
		return inv.invokeFunctionARN(ctx, t)
	case kindInvoke:
		return inv.invokeOptimized(ctx, t)
	case kindInvokeWaitForTaskToken:
		return nil, fault.New(fault.Runtime, "The resource '"+t.Resource+
			"' (lambda:invoke.waitForTaskToken) is not supported by this Stepwell build yet.")
	}
	return nil, fault.New(fault.Runtime, "The resource '"+t.Resource+"' is not a Lambda resource.")
}
