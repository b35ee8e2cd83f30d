// Package httptask runs HTTP Tasks (arn:aws:states:::http:invoke): it
// builds the request from the task's ApiEndpoint, Method, Headers,
// QueryParameters, RequestBody and Transform, adds what the named
// connection provides, sends it to the real endpoint and shapes the
// response as Step Functions does ({Headers, ResponseBody, StatusCode,
// StatusText}).
//
// On AWS, the connection (Authentication.ConnectionArn or
// InvocationConfig.ConnectionArn) is an EventBridge connection whose
// credentials live in Secrets Manager. Locally, a connections file (see
// ParseConnections) maps connection ARNs to the headers, query parameters
// and body parameters to add; a connection the file does not list adds
// nothing.
//
// Errors are named as AWS names them: States.Http.StatusCode.<code> for a
// response that is not 2xx (the cause is the response as JSON text),
// States.Http.Socket when the endpoint cannot be reached or does not
// answer in time, States.Runtime for invalid parameters, forbidden headers
// and binary responses.
//
// The operator may restrict where tasks connect (Policy, checked on each
// connection's resolved address: a refused target is States.Http.Socket,
// as an unreachable one), and where each connection's credentials go (its
// Endpoints). A request carrying a connection's credentials follows
// redirects to its own host only: a redirect elsewhere is its answer.
package httptask

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/value"
)

// Resource is the HTTP Task's resource (in the aws partition).
const Resource = "arn:aws:states:::http:invoke"

// DefaultTimeout is how long Step Functions waits for an HTTP response.
const DefaultTimeout = 60 * time.Second

// maxResponseBytes bounds how much of a response body is read; Step
// Functions asks for the first 256 KiB (Range: bytes=0-262144) and the
// payload limit applies to the result anyway.
const maxResponseBytes = 4 << 20

// Invoker runs HTTP Tasks. It implements engine.Invoker. The exported
// fields may be set before the first Invoke.
type Invoker struct {
	// Client sends the requests (default: a client with DefaultTimeout).
	Client *http.Client
	// Connections provides what each connection adds to requests.
	Connections Connections
	// Region is used in the User-Agent header when the task has none.
	Region string
}

var _ engine.Invoker = (*Invoker)(nil)

// New returns an Invoker with the given connections (nil for none).
func New(conns Connections) *Invoker {
	return &Invoker{Client: &http.Client{Timeout: DefaultTimeout}, Connections: conns, Region: "us-east-1"}
}

func (inv *Invoker) client() *http.Client {
	if inv.Client != nil {
		return inv.Client
	}
	return defaultClient
}

var defaultClient = &http.Client{Timeout: DefaultTimeout}

// Handles reports whether resource is arn:<partition>:states:::http:invoke.
func Handles(resource string) bool {
	rest, ok := strings.CutPrefix(resource, "arn:")
	if !ok {
		return false
	}
	i := strings.IndexByte(rest, ':')
	return i > 0 && rest[i+1:] == "states:::http:invoke"
}

var methods = []string{"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"}

// forbidden lists the headers a task may not set (lower case).
var forbidden = map[string]bool{
	"a-im": true, "accept-charset": true, "accept-datetime": true, "accept-encoding": true, "authorization": true,
	"cache-control": true, "connection": true, "content-encoding": true, "content-md5": true, "date": true,
	"expect": true, "forwarded": true, "from": true, "host": true, "http2-settings": true, "if-match": true,
	"if-modified-since": true, "if-none-match": true, "if-range": true, "if-unmodified-since": true,
	"max-forwards": true, "origin": true, "pragma": true, "proxy-authorization": true, "referer": true,
	"server": true, "te": true, "trailer": true, "transfer-encoding": true, "upgrade": true, "via": true,
	"warning": true,
}

func isForbidden(name string) bool {
	n := strings.ToLower(name)
	return forbidden[n] || strings.HasPrefix(n, "x-forwarded-") || strings.HasPrefix(n, "x-amz-") || strings.HasPrefix(n, "x-amzn-")
}

func runtimeErr(msg string) *fault.Error { return fault.New(fault.Runtime, msg) }

// Invoke sends the task's request and returns the response.
func (inv *Invoker) Invoke(ctx context.Context, t *engine.Task) (any, error) {
	req, creds, fe := inv.build(ctx, t)
	if fe != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fe
	}
	client := inv.client()
	if creds {
		// A connection's credentials never follow a redirect to another
		// host: the redirect is the task's answer.
		c := *client
		c.CheckRedirect = sameHostRedirects
		client = &c
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if re, ok := refused(err); ok {
			return nil, fault.New("States.Http.Socket", "The HTTP Task's request to "+req.URL.Host+" was not sent: "+re.Error()+".")
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fault.New("States.Http.Socket", err.Error())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fault.New("States.Http.Socket", err.Error())
	}
	ct := strings.ToLower(resp.Header.Get("Content-Type"))
	if strings.HasPrefix(ct, "application/octet-stream") || strings.HasPrefix(ct, "image/") ||
		strings.HasPrefix(ct, "video/") || strings.HasPrefix(ct, "audio/") || !utf8.Valid(body) {
		return nil, runtimeErr("The HTTP response has a body that is not text (Content-Type '" +
			resp.Header.Get("Content-Type") + "'); HTTP Tasks only accept text responses.")
	}
	result := shape(resp, body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fault.New("States.Http.StatusCode."+strconv.Itoa(resp.StatusCode), value.String(result))
	}
	return result, nil
}

// shape builds the task result: {Headers, ResponseBody, StatusCode,
// StatusText}. Header names are lower case, each with its list of values;
// a JSON body (Content-Type application/json or +json) is parsed, any
// other body is a string.
func shape(resp *http.Response, body []byte) *value.Object {
	names := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		names = append(names, k)
	}
	slices.Sort(names)
	headers := value.NewObject(len(names))
	for _, k := range names {
		vals := resp.Header[k]
		list := make([]any, len(vals))
		for i, v := range vals {
			list[i] = v
		}
		headers.Set(strings.ToLower(k), list)
	}
	var rb any = string(body)
	if media, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); media == "application/json" || strings.HasSuffix(media, "+json") {
		if v, err := value.Parse(body); err == nil {
			rb = v
		}
	}
	text := strings.TrimSpace(strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode)))
	if text == "" {
		text = http.StatusText(resp.StatusCode)
	}
	out := value.NewObject(4)
	out.Set("Headers", headers)
	out.Set("ResponseBody", rb)
	out.Set("StatusCode", int64(resp.StatusCode))
	out.Set("StatusText", text)
	return out
}

// sameHostRedirects follows redirects (at most 10, as net/http does) to
// the first request's host only.
func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if !strings.EqualFold(req.URL.Host, via[0].URL.Host) || req.URL.Scheme != via[0].URL.Scheme {
		return http.ErrUseLastResponse
	}
	return nil
}

// build makes the HTTP request of a task; creds reports whether it carries
// a connection's credentials.
func (inv *Invoker) build(ctx context.Context, t *engine.Task) (req *http.Request, creds bool, fe *fault.Error) {
	req, conn, fe := inv.request(ctx, t)
	return req, conn != nil && conn.credentials(), fe
}

// request makes the HTTP request of a task and returns the connection it
// names.
func (inv *Invoker) request(ctx context.Context, t *engine.Task) (*http.Request, *Connection, *fault.Error) {
	p, ok := t.Input.(*value.Object)
	if !ok {
		return nil, nil, runtimeErr("The Parameters of an HTTP Task must be an object, got " + value.TypeName(t.Input) + ".")
	}
	endpoint, fe := requiredString(p, "ApiEndpoint")
	if fe != nil {
		return nil, nil, fe
	}
	method, fe := requiredString(p, "Method")
	if fe != nil {
		return nil, nil, fe
	}
	if !slices.Contains(methods, method) {
		return nil, nil, runtimeErr("The Method '" + method + "' is not supported by HTTP Tasks (supported: " + strings.Join(methods, ", ") + ").")
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, nil, runtimeErr("The ApiEndpoint '" + endpoint + "' is not a valid http or https URL.")
	}
	conn, fe := inv.connection(p)
	if fe != nil {
		return nil, nil, fe
	}
	if !conn.allows(u) {
		return nil, nil, runtimeErr("The connection's credentials may not be sent to the ApiEndpoint '" + endpoint +
			"': the connections file limits the connection to " + strings.Join(conn.Endpoints, ", ") + ".")
	}
	opts, fe := transform(p)
	if fe != nil {
		return nil, nil, fe
	}

	// Headers: the task's, checked, then the connection's (which win).
	h := http.Header{}
	if v, ok := p.Get("Headers"); ok && v != nil {
		o, ok := v.(*value.Object)
		if !ok {
			return nil, nil, runtimeErr("The Headers of an HTTP Task must be an object, got " + value.TypeName(v) + ".")
		}
		for i := 0; i < o.Len(); i++ {
			k, hv := o.At(i)
			if isForbidden(k) {
				return nil, nil, runtimeErr("The header '" + k + "' is not allowed in the Headers of an HTTP Task.")
			}
			h.Set(k, scalar(hv))
		}
	}
	for _, c := range conn.Headers {
		h.Set(c.Name, c.Value)
	}
	if conn.OAuth != nil {
		tok, err := conn.OAuth.Token(ctx, inv.client())
		if err != nil {
			if fe, ok := fault.As(err); ok {
				return nil, nil, fe
			}
			return nil, nil, connectionError(err.Error())
		}
		h.Set("Authorization", "Bearer "+tok)
	}

	// Query parameters: the endpoint's own, the task's, the connection's.
	q := u.Query()
	if v, ok := p.Get("QueryParameters"); ok && v != nil {
		o, ok := v.(*value.Object)
		if !ok {
			return nil, nil, runtimeErr("The QueryParameters of an HTTP Task must be an object, got " + value.TypeName(v) + ".")
		}
		var pairs []Param
		for i := 0; i < o.Len(); i++ {
			k, qv := o.At(i)
			pairs = appendEncoded(pairs, k, qv, opts.arrays)
		}
		for _, pr := range pairs {
			q.Add(pr.Name, pr.Value)
		}
	}
	for _, c := range conn.QueryParameters {
		q.Set(c.Name, c.Value)
	}
	u.RawQuery = q.Encode()

	body, fe := requestBody(p, conn, opts, h)
	if fe != nil {
		return nil, nil, fe
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, nil, runtimeErr("The HTTP request cannot be built: " + err.Error())
	}
	req.Header = h
	region := t.Region
	if region == "" {
		region = inv.Region
	}
	req.Header.Set("User-Agent", "Amazon|StepFunctions|HttpInvoke|"+region)
	req.Header.Set("Range", "bytes=0-262144")
	return req, conn, nil
}

// connection returns the connection the task names (an empty one when it
// names none or one the connections file does not list).
func (inv *Invoker) connection(p *value.Object) (*Connection, *fault.Error) {
	for _, field := range []string{"InvocationConfig", "Authentication"} {
		v, ok := p.Get(field)
		if !ok || v == nil {
			continue
		}
		o, ok := v.(*value.Object)
		if !ok {
			return nil, runtimeErr("The " + field + " of an HTTP Task must be an object, got " + value.TypeName(v) + ".")
		}
		arn, fe := requiredString(o, "ConnectionArn")
		if fe != nil {
			return nil, fe
		}
		if c := inv.Connections[arn]; c != nil {
			return c, nil
		}
		break
	}
	return &Connection{}, nil
}

// options are the task's Transform settings.
type options struct {
	urlEncoded bool
	arrays     string // INDICES, REPEAT, COMMAS or BRACKETS
}

func transform(p *value.Object) (options, *fault.Error) {
	opts := options{arrays: "INDICES"}
	v, ok := p.Get("Transform")
	if !ok || v == nil {
		return opts, nil
	}
	o, ok := v.(*value.Object)
	if !ok {
		return opts, runtimeErr("The Transform of an HTTP Task must be an object, got " + value.TypeName(v) + ".")
	}
	if ev, ok := o.Get("RequestBodyEncoding"); ok {
		switch ev {
		case "NONE":
		case "URL_ENCODED":
			opts.urlEncoded = true
		default:
			return opts, runtimeErr("The RequestBodyEncoding must be NONE or URL_ENCODED, got " + value.String(ev) + ".")
		}
	}
	if rv, ok := o.Get("RequestEncodingOptions"); ok && rv != nil {
		ro, ok := rv.(*value.Object)
		if !ok {
			return opts, runtimeErr("The RequestEncodingOptions must be an object, got " + value.TypeName(rv) + ".")
		}
		if av, ok := ro.Get("ArrayFormat"); ok {
			switch av {
			case "INDICES", "REPEAT", "COMMAS", "BRACKETS":
				opts.arrays = av.(string)
			default:
				return opts, runtimeErr("The ArrayFormat must be INDICES, REPEAT, COMMAS or BRACKETS, got " + value.String(av) + ".")
			}
		}
	}
	return opts, nil
}

// requestBody encodes the RequestBody merged with the connection's body
// parameters (the connection's win), as JSON or URL-encoded. It sets the
// Content-Type when the task did not.
func requestBody(p *value.Object, conn *Connection, opts options, h http.Header) ([]byte, *fault.Error) {
	body, _ := p.Get("RequestBody")
	if body == nil && len(conn.BodyParameters) == 0 {
		return nil, nil // absent or null: no body
	}
	if len(conn.BodyParameters) > 0 {
		switch b := body.(type) {
		case nil:
			o := value.NewObject(len(conn.BodyParameters))
			for _, c := range conn.BodyParameters {
				o.Set(c.Name, c.Value)
			}
			body = o
		case *value.Object:
			o := b.Copy()
			for _, c := range conn.BodyParameters {
				o.Set(c.Name, c.Value)
			}
			body = o
		default:
			return nil, runtimeErr("The RequestBody of an HTTP Task must be an object when its connection adds body parameters, got " +
				value.TypeName(body) + ".")
		}
	}
	if opts.urlEncoded {
		o, ok := body.(*value.Object)
		if !ok {
			if s, isStr := body.(string); isStr {
				setDefault(h, "Content-Type", "application/x-www-form-urlencoded")
				return []byte(s), nil
			}
			return nil, runtimeErr("A URL_ENCODED RequestBody must be an object, got " + value.TypeName(body) + ".")
		}
		var pairs []Param
		for i := 0; i < o.Len(); i++ {
			k, v := o.At(i)
			pairs = appendEncoded(pairs, k, v, opts.arrays)
		}
		var sb strings.Builder
		for i, pr := range pairs {
			if i > 0 {
				sb.WriteByte('&')
			}
			sb.WriteString(url.QueryEscape(pr.Name))
			sb.WriteByte('=')
			sb.WriteString(url.QueryEscape(pr.Value))
		}
		setDefault(h, "Content-Type", "application/x-www-form-urlencoded")
		return []byte(sb.String()), nil
	}
	if s, ok := body.(string); ok {
		setDefault(h, "Content-Type", "text/plain; charset=UTF-8")
		return []byte(s), nil
	}
	setDefault(h, "Content-Type", "application/json; charset=UTF-8")
	return value.Marshal(body), nil
}

func setDefault(h http.Header, k, v string) {
	if h.Get(k) == "" {
		h.Set(k, v)
	}
}

// appendEncoded flattens one key and value for URL encoding: arrays by
// format (INDICES a[0]=x, REPEAT a=x&a=y, COMMAS a=x,y, BRACKETS a[]=x),
// objects as key[sub].
func appendEncoded(dst []Param, key string, v any, arrays string) []Param {
	switch x := v.(type) {
	case []any:
		if arrays == "COMMAS" {
			parts := make([]string, len(x))
			for i, e := range x {
				parts[i] = scalar(e)
			}
			return append(dst, Param{key, strings.Join(parts, ",")})
		}
		for i, e := range x {
			k := key
			switch arrays {
			case "INDICES":
				k = key + "[" + strconv.Itoa(i) + "]"
			case "BRACKETS":
				k = key + "[]"
			}
			dst = appendEncoded(dst, k, e, arrays)
		}
		return dst
	case *value.Object:
		for i := 0; i < x.Len(); i++ {
			k, e := x.At(i)
			dst = appendEncoded(dst, key+"["+k+"]", e, arrays)
		}
		return dst
	}
	return append(dst, Param{key, scalar(v)})
}

// scalar renders a value as parameter text: strings as they are, other
// values as JSON.
func scalar(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return value.String(v)
}

func requiredString(o *value.Object, field string) (string, *fault.Error) {
	v, ok := o.Get(field)
	if !ok {
		return "", runtimeErr("The field '" + field + "' is required in the Parameters of an HTTP Task.")
	}
	s, ok := v.(string)
	if !ok {
		return "", runtimeErr("The field '" + field + "' of an HTTP Task must be a string, got " + value.TypeName(v) + ".")
	}
	return s, nil
}
