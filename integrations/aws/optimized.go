package awsint

import (
	"context"
	"hash/crc32"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/internal/uuid"
	"github.com/stepwell/stepwell/value"
)

// invokeOptimized runs an optimized integration's call.
func (i *Integration) invokeOptimized(ctx context.Context, o *optimized, method reflect.Value, params *value.Object) (any, error) {
	for _, path := range o.stringify {
		params = stringify(params, strings.Split(path, "."))
	}
	out, err := i.call(ctx, o.svc, method, params)
	if err != nil {
		return nil, optimizedFault(ctx, o, err)
	}
	obj, err := i.result(o.svc, params, out)
	if err != nil {
		return nil, err
	}
	if o.failedEntries {
		if n, ok := obj.Get("FailedEntryCount"); ok {
			if f, _ := value.ToFloat(n); f > 0 {
				return nil, fault.New(o.prefix+".FailedEntry", value.String(obj))
			}
		}
	}
	if o.metadata {
		obj = withMetadata(o, obj, out)
	}
	return obj, nil
}

// stringify returns params with the member at path (names; "X[]" for each
// element of the array X) replaced by its JSON text when it is not a
// string, as Step Functions sends message bodies and event details.
func stringify(params *value.Object, path []string) *value.Object {
	name, each := strings.CutSuffix(path[0], "[]")
	v, ok := params.Get(name)
	if !ok {
		return params
	}
	switch {
	case each:
		a, ok := v.([]any)
		if !ok || len(path) == 1 {
			return params
		}
		c := make([]any, len(a))
		for k, x := range a {
			if o, ok := x.(*value.Object); ok {
				x = stringify(o, path[1:])
			}
			c[k] = x
		}
		return params.With(name, c)
	case len(path) > 1:
		if o, ok := v.(*value.Object); ok {
			return params.With(name, stringify(o, path[1:]))
		}
		return params
	}
	if _, ok := v.(string); ok || v == nil {
		return params
	}
	return params.With(name, value.String(v))
}

// withMetadata adds the SdkHttpMetadata and SdkResponseMetadata that the
// AWS SDK for Java 1 reports to an optimized result: the HTTP status, and
// the headers AWS sends for the service, with the values of AWS's response
// to the call: its protocol's Content-Type, the length (and for DynamoDB
// the CRC32) of the body AWS would have sent, its Server and Connection,
// the emulator's Date and request id.
func withMetadata(o *optimized, res *value.Object, out reflect.Value) *value.Object {
	var md middleware.Metadata
	if out.Kind() == reflect.Pointer && !out.IsNil() {
		if f := out.Elem().FieldByName("ResultMetadata"); f.IsValid() {
			md, _ = f.Interface().(middleware.Metadata)
		}
	}
	status := http.StatusOK
	var header http.Header
	if raw, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok && raw != nil {
		status, header = raw.StatusCode, raw.Header
	}
	requestID, _ := awsmiddleware.GetRequestIDMetadata(md)
	if requestID == "" {
		requestID = uuid.New()
	}
	wire := o.wire(res, requestID)
	all := value.NewObject(len(o.headers))
	single := value.NewObject(len(o.headers))
	for _, name := range o.headers {
		var v string
		switch strings.ToLower(name) {
		case "content-type":
			v = wire.contentType
		case "content-length":
			v = strconv.Itoa(wire.length)
		case "x-amzn-requestid":
			v = requestID
		case "connection":
			v = "keep-alive"
		case "server":
			v = "Server" // DynamoDB's, literally
		case "x-amz-crc32":
			v = strconv.FormatUint(uint64(wire.crc32), 10)
		case "date":
			if v = header.Get("Date"); v == "" {
				v = time.Now().UTC().Format(http.TimeFormat)
			}
		default:
			if v = header.Get(name); v == "" {
				continue
			}
		}
		all.Set(name, []any{v})
		single.Set(name, v)
	}
	httpMeta := value.NewObject(3)
	httpMeta.Set("AllHttpHeaders", all)
	httpMeta.Set("HttpHeaders", single)
	httpMeta.Set("HttpStatusCode", int64(status))
	respMeta := value.NewObject(1)
	respMeta.Set("RequestId", requestID)
	res = res.With("SdkHttpMetadata", httpMeta)
	return res.With("SdkResponseMetadata", respMeta)
}

// wireResponse is what AWS's HTTP response to a call looks like.
type wireResponse struct {
	contentType string
	length      int    // of the body
	crc32       uint32 // of the body (DynamoDB's x-amz-crc32)
}

// wire returns AWS's HTTP response to an optimized call with result res.
func (o *optimized) wire(res *value.Object, requestID string) wireResponse {
	switch o.svc.name {
	case "sns":
		// The query protocol's XML document (PublishResponse).
		var b strings.Builder
		b.WriteString("<" + o.action + "Response xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">\n  <" + o.action + "Result>\n")
		for k := range res.Len() {
			name, v := res.At(k)
			if s, ok := v.(string); ok {
				b.WriteString("    <" + name + ">" + xmlEscape(s) + "</" + name + ">\n")
			}
		}
		// AWS's request ids are UUIDs; an emulator's may be longer.
		b.WriteString("  </" + o.action + "Result>\n  <ResponseMetadata>\n    <RequestId>" + awsRequestID(requestID) +
			"</RequestId>\n  </ResponseMetadata>\n</" + o.action + "Response>\n")
		return wireResponse{contentType: "text/xml", length: b.Len()}
	case "dynamodb":
		body := value.Marshal(res)
		return wireResponse{contentType: "application/x-amz-json-1.0", length: len(body), crc32: crc32.ChecksumIEEE(body)}
	}
	return wireResponse{contentType: "application/x-amz-json-1.0", length: len(value.Marshal(res))}
}

// awsRequestID returns id if it has the form of SNS's request ids (a
// UUID), else a UUID of the same length as the ids AWS sends.
func awsRequestID(id string) string {
	if len(id) == 36 {
		return id
	}
	return "00000000-0000-0000-0000-000000000000"
}

// xmlEscape escapes text for an XML element.
func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\"", "&quot;", "'", "&apos;").Replace(s)
}
