package awsint

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/stepwell/stepwell/fault"
)

// callError is what an API call's error tells: whether the service
// answered, and how.
type callError struct {
	api       smithy.APIError // nil: the service was not reached
	modeled   string          // the API's name of a modeled error ("NoSuchKey"); "" if not modeled
	status    int
	requestID string
	hostID    string // S3's extended request id
	err       error
}

// inspect reads err, an error of a call to svc. An error is modeled when
// the SDK decoded it as one of the operation's errors or, as the AWS SDKs
// for Java do, when its code is one of the service's errors
// (modeledErrors: S3's NoSuchBucket for GetObject).
func inspect(svc *service, err error) callError {
	ce := callError{err: err}
	if errors.As(err, &ce.api) {
		var generic *smithy.GenericAPIError
		if !errors.As(err, &generic) {
			t := reflect.TypeOf(ce.api)
			if t.Kind() == reflect.Pointer {
				t = t.Elem()
			}
			ce.modeled = t.Name()
		} else {
			ce.modeled = modeledErrors[svc.name][ce.api.ErrorCode()]
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		ce.status = re.HTTPStatusCode()
		ce.requestID = re.ServiceRequestID()
	}
	var host interface{ ServiceHostID() string }
	if errors.As(err, &host) {
		ce.hostID = host.ServiceHostID()
	}
	return ce
}

// exception returns the Java SDKs' exception class of a modeled error:
// its name with "Exception" appended unless it already ends so.
func exception(name string) string {
	if strings.HasSuffix(name, "Exception") {
		return name
	}
	return name + "Exception"
}

// ctxOrNil returns ctx's error when it has ended, which callers return
// as it is (the engine tells a task's timeout or abort by it).
func ctxOrNil(ctx context.Context) error { return ctx.Err() }

// sdkFault names an aws-sdk task's error as Step Functions does, after the
// AWS SDK for Java 2: <Service>.<Error>Exception for errors the API models,
// <Service>.<Service>Exception for those it does not, with the SDK's
// message "<message> (Service: S, Status Code: N, Request ID: R)".
func sdkFault(ctx context.Context, svc *service, err error) error {
	if e := ctxOrNil(ctx); e != nil {
		return e
	}
	if fe, ok := fault.As(err); ok {
		return fe
	}
	var pe *paramError
	if errors.As(err, &pe) {
		return fault.New(fault.Runtime, "The parameters of the "+svc.sdkName+" call are not valid: "+pe.Error())
	}
	ce := inspect(svc, err)
	if ce.api == nil {
		return fault.New(svc.sdkName+".SdkClientException", "Unable to execute HTTP request: "+err.Error())
	}
	name := svc.sdkName + "Exception"
	if ce.modeled != "" {
		name = exception(ce.modeled)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s (Service: %s, Status Code: %d, Request ID: %s", ce.api.ErrorMessage(), svc.sdkName, ce.status, ce.requestID)
	if svc.hostID {
		fmt.Fprintf(&b, ", Extended Request ID: %s", ce.hostID)
	}
	b.WriteString(")")
	if svc.attemptCount {
		b.WriteString(" (SDK Attempt Count: 1)")
	}
	return fault.New(svc.sdkName+"."+name, b.String())
}

// optimizedFault names an optimized task's error as Step Functions does,
// after the AWS SDK for Java 1: <Prefix>.<Error>Exception for errors the
// API models, <Prefix>.Amazon<Service>Exception for those it does not,
// with the SDK's message "<message> (Service: AmazonX; Status Code: N;
// Error Code: C; Request ID: R; Proxy: null)".
func optimizedFault(ctx context.Context, o *optimized, err error) error {
	if e := ctxOrNil(ctx); e != nil {
		return e
	}
	if fe, ok := fault.As(err); ok {
		return fe
	}
	var pe *paramError
	if errors.As(err, &pe) {
		return fault.New(fault.Runtime, "The parameters of "+o.prefix+" "+o.action+" are not valid: "+pe.Error())
	}
	ce := inspect(o.svc, err)
	if ce.api == nil {
		return fault.New(o.prefix+".SdkClientException", "Unable to execute HTTP request: "+err.Error())
	}
	name := o.generic
	if ce.modeled != "" {
		name = exception(ce.modeled)
	}
	return fault.New(o.prefix+"."+name, fmt.Sprintf("%s (Service: %s; Status Code: %d; Error Code: %s; Request ID: %s; Proxy: null)",
		ce.api.ErrorMessage(), o.v1Service, ce.status, ce.api.ErrorCode(), ce.requestID))
}
