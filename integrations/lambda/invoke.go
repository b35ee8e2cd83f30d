package lambda

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/value"
)

// request is one Invoke API call.
type request struct {
	functionName   string // name, partial or full ARN, possibly with :qualifier
	qualifier      string
	invocationType string
	logType        string
	clientContext  string
	payload        []byte
	region         string
}

// response is what the Invoke API answered.
type response struct {
	status int
	header http.Header
	body   []byte
}

// invokeFunctionARN runs a task whose resource is a function ARN: the task
// input is the payload and the function's JSON result is the task result.
func (inv *Invoker) invokeFunctionARN(ctx context.Context, t *engine.Task) (any, error) {
	fn, _ := parseFunctionARN(t.Resource)
	req := request{
		functionName: t.Resource,
		payload:      value.Marshal(t.Input),
		region:       firstNonEmpty(fn.region, t.Region, inv.DefaultRegion),
	}
	resp, err := inv.call(ctx, &req)
	if err != nil {
		return nil, err
	}
	if fe := resp.header.Get("X-Amz-Function-Error"); fe != "" {
		// The function's error document is passed on verbatim as the cause.
		return nil, fault.New(functionErrorName(resp.body), string(resp.body))
	}
	if err := inv.checkService(resp); err != nil {
		return nil, err
	}
	if err := inv.checkSize(resp, t.Resource); err != nil {
		return nil, err
	}
	return parsePayload(resp.body), nil
}

// invokeOptimized runs arn:aws:states:::lambda:invoke: the task input holds
// the Invoke API's parameters and the result is the response's shape.
func (inv *Invoker) invokeOptimized(ctx context.Context, t *engine.Task) (any, error) {
	params, ok := t.Input.(*value.Object)
	if !ok {
		return nil, fault.New(fault.Runtime, "The Parameters of a lambda:invoke task must be an object, got "+
			value.TypeName(t.Input)+".")
	}
	req := request{region: firstNonEmpty(t.Region, inv.DefaultRegion)}
	name, err := stringParam(params, "FunctionName", true)
	if err != nil {
		return nil, err
	}
	req.functionName = name
	if fn, ok := parseFunctionARN(name); ok && fn.region != "" {
		req.region = fn.region
	}
	if req.qualifier, err = stringParam(params, "Qualifier", false); err != nil {
		return nil, err
	}
	if req.invocationType, err = stringParam(params, "InvocationType", false); err != nil {
		return nil, err
	}
	if req.logType, err = stringParam(params, "LogType", false); err != nil {
		return nil, err
	}
	if req.clientContext, err = stringParam(params, "ClientContext", false); err != nil {
		return nil, err
	}
	switch p, _ := params.Get("Payload"); p := p.(type) {
	case nil:
		// No payload: Lambda hands the function the event {}.
	case string:
		// A string is the payload's text itself, as with the SDK's Payload blob.
		req.payload = []byte(p)
	default:
		req.payload = value.Marshal(p)
	}

	resp, err := inv.call(ctx, &req)
	if err != nil {
		return nil, err
	}
	if fe := resp.header.Get("X-Amz-Function-Error"); fe != "" {
		// lambda:invoke re-serialises the error document compactly.
		cause := string(resp.body)
		if v, err := value.Parse(resp.body); err == nil {
			cause = value.String(v)
		}
		return nil, fault.New(functionErrorName(resp.body), cause)
	}
	if err := inv.checkService(resp); err != nil {
		return nil, err
	}
	if err := inv.checkSize(resp, "lambda"); err != nil {
		return nil, err
	}
	return invokeResult(resp), nil
}

// call sends the request and reads the whole response.
func (inv *Invoker) call(ctx context.Context, r *request) (*response, error) {
	u := inv.Endpoint + "/2015-03-31/functions/" + escapePathSegment(r.functionName) + "/invocations"
	if r.qualifier != "" {
		u += "?Qualifier=" + escapePathSegment(r.qualifier)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(r.payload))
	if err != nil {
		return nil, fault.New("Lambda.SdkClientException", "Unable to execute HTTP request: "+err.Error())
	}
	hr.ContentLength = int64(len(r.payload))
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept-Encoding", "identity")
	hr.Header.Set("X-Amz-Invocation-Type", firstNonEmpty(r.invocationType, "RequestResponse"))
	if r.logType != "" {
		hr.Header.Set("X-Amz-Log-Type", r.logType)
	}
	if r.clientContext != "" {
		hr.Header.Set("X-Amz-Client-Context", r.clientContext)
	}
	inv.sign(hr, r.payload, r.region)

	res, err := inv.Client.Do(hr)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("lambda invoke: %w", ctxErr)
		}
		return nil, fault.New("Lambda.SdkClientException", "Unable to execute HTTP request: "+clientErrorText(err))
	}
	defer res.Body.Close()
	limit := int64(inv.MaxResultBytes)
	var body []byte
	if limit > 0 {
		body, err = io.ReadAll(io.LimitReader(res.Body, limit+1))
	} else {
		body, err = io.ReadAll(res.Body)
	}
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("lambda invoke: %w", ctxErr)
		}
		return nil, fault.New("Lambda.SdkClientException", "Unable to execute HTTP request: "+clientErrorText(err))
	}
	return &response{status: res.StatusCode, header: res.Header, body: body}, nil
}

// clientErrorText strips Go's "Post \"url\": " prefix from a transport error.
func clientErrorText(err error) string {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner.Error()
		}
	}
	return err.Error()
}

// checkSize fails results larger than the payload limit, as Step Functions
// does, naming the state/task by resource ("lambda" for lambda:invoke).
func (inv *Invoker) checkSize(resp *response, name string) error {
	if inv.MaxResultBytes > 0 && len(resp.body) > inv.MaxResultBytes {
		return fault.New(fault.DataLimitExceeded, "The state/task '"+name+
			"' returned a result with a size exceeding the maximum number of bytes service limit.")
	}
	return nil
}

// checkService turns a non-2xx answer into Lambda.<ErrorCode>, with the
// cause text the AWS SDK for Java builds for service exceptions.
func (inv *Invoker) checkService(resp *response) error {
	if resp.status >= 200 && resp.status < 300 {
		return nil
	}
	code, message := serviceError(resp)
	cause := fmt.Sprintf("%s (Service: AWSLambda; Status Code: %d; Error Code: %s; Request ID: %s; Proxy: null)",
		message, resp.status, code, resp.header.Get("X-Amzn-Requestid"))
	return fault.New("Lambda."+code, cause)
}

// serviceError finds the error code and message of a Lambda API error
// response: the X-Amzn-ErrorType header or the body's __type, and the
// body's Message (or message).
func serviceError(resp *response) (code, message string) {
	code = resp.header.Get("X-Amzn-Errortype")
	obj, _ := parseObject(resp.body)
	if code == "" {
		code, _ = stringMember(obj, "__type")
		if code == "" {
			code, _ = stringMember(obj, "code")
		}
	}
	// "ResourceNotFoundException:http://internal.amazon.com/..." and
	// "com.amazonaws.lambda#ResourceNotFoundException" both name the type.
	if i := strings.IndexByte(code, ':'); i >= 0 {
		code = code[:i]
	}
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	if code == "" {
		code = "AWSLambdaException"
	}
	if m, ok := stringMember(obj, "Message"); ok {
		message = m
	} else if m, ok := stringMember(obj, "message"); ok {
		message = m
	} else if obj == nil && len(resp.body) > 0 {
		message = string(resp.body)
	} else {
		message = http.StatusText(resp.status)
	}
	return code, message
}

// functionErrorName is the error name of a function error: the error
// document's errorType.
func functionErrorName(body []byte) string {
	obj, _ := parseObject(body)
	if t, ok := stringMember(obj, "errorType"); ok && t != "" {
		return t
	}
	return "Lambda.Unknown"
}

// parsePayload reads a function's result: JSON when it is JSON, otherwise
// the text itself; an empty result is null (or "" for an empty 2xx answer
// to an asynchronous invocation, see invokeResult).
func parsePayload(body []byte) any {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if v, err := value.Parse(body); err == nil {
		return v
	}
	return string(body)
}

func parseObject(body []byte) (*value.Object, bool) {
	v, err := value.Parse(body)
	if err != nil {
		return nil, false
	}
	o, ok := v.(*value.Object)
	return o, ok
}

func stringMember(o *value.Object, k string) (string, bool) {
	v, ok := o.Get(k)
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	return s, ok
}

// stringParam reads an optional (or required) lambda:invoke parameter.
// Numbers are accepted for Qualifier-like fields and written as JSON.
func stringParam(params *value.Object, name string, required bool) (string, error) {
	v, ok := params.Get(name)
	if !ok || v == nil {
		if required {
			return "", fault.New("Lambda.InvalidParameterValueException",
				"The lambda:invoke parameter '"+name+"' is required.")
		}
		return "", nil
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case bool, []any, *value.Object:
		return "", fault.New("Lambda.InvalidParameterValueException",
			"The lambda:invoke parameter '"+name+"' must be a string, got "+value.TypeName(v)+".")
	default:
		return value.String(x), nil
	}
}

// escapePathSegment percent-encodes everything but RFC 3986 unreserved
// characters, as the AWS SDKs do for the FunctionName label (so ':' in an
// ARN becomes %3A).
func escapePathSegment(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
