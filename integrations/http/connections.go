package httptask

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/stepwell/stepwell/value"
)

// Connection is what a connection adds to the requests of HTTP Tasks that
// name it: headers, query parameters and body parameters, in order. On AWS
// an EventBridge connection holds them (and the credentials, in Secrets
// Manager); locally a connections file does.
type Connection struct {
	Headers         []Param
	QueryParameters []Param
	BodyParameters  []Param
	// OAuth, when set, gets an access token with the OAuth client
	// credentials grant and sends it as "Authorization: Bearer <token>".
	OAuth *OAuthClient
	// Endpoints, when not empty, are the only URLs (prefixes: scheme,
	// host and port exactly, then the start of the path) the connection's
	// credentials may be sent to: a task naming the connection with
	// another ApiEndpoint fails with States.Runtime, so that a workflow
	// author cannot send them to a host of their choosing. (On AWS, IAM's
	// states:HTTPEndpoint condition does this.)
	Endpoints []string
}

// credentials reports whether the connection adds anything to requests.
func (c *Connection) credentials() bool {
	return len(c.Headers)+len(c.QueryParameters)+len(c.BodyParameters) > 0 || c.OAuth != nil
}

// allows reports whether the connection's credentials may be sent to u.
func (c *Connection) allows(u *url.URL) bool {
	if len(c.Endpoints) == 0 {
		return true
	}
	for _, e := range c.Endpoints {
		p, err := url.Parse(e)
		if err != nil {
			continue
		}
		if strings.EqualFold(p.Scheme, u.Scheme) && strings.EqualFold(p.Host, u.Host) && pathUnder(u.Path, p.Path) {
			return true
		}
	}
	return false
}

// pathUnder reports whether path is prefix or below it ("/v1" holds
// "/v1" and "/v1/x", not "/v10").
func pathUnder(path, prefix string) bool {
	prefix = strings.TrimSuffix(prefix, "/")
	return prefix == "" || path == prefix || strings.HasPrefix(path, prefix+"/")
}

// Param is one name and value.
type Param struct {
	Name  string
	Value string
}

// Connections maps connection ARNs to connections.
type Connections map[string]*Connection

// LoadConnections reads a connections file (see ParseConnections).
func LoadConnections(path string) (Connections, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read http connections: %w", err)
	}
	c, err := ParseConnections(data)
	if err != nil {
		return nil, fmt.Errorf("http connections %s: %w", path, err)
	}
	return c, nil
}

// ParseConnections parses a connections file: a JSON object mapping each
// connection ARN to an object with any of
//
//	"Headers", "QueryParameters", "BodyParameters": {"name": "value", ...}
//	"BasicAuth":  {"Username": "...", "Password": "..."}   → Authorization: Basic ...
//	"ApiKey":     {"Name": "x-api-key", "Value": "..."}     → that header
//	"OAuth":      {"AccessToken": "..."}                    → Authorization: Bearer ...
//	"OAuth":      {"AuthorizationEndpoint": "https://.../token", "ClientID": "...",
//	               "ClientSecret": "...", "HttpMethod": "POST",
//	               "Headers": {...}, "QueryParameters": {...}, "BodyParameters": {...}}
//	"Endpoints":  ["https://api.example.com/v1", ...]       → the only URLs it may be sent to
//
// mirroring EventBridge's connection parameters and its Basic, API key and
// OAuth authorization. OAuth takes either an already issued token or what
// the client credentials grant needs: the token is then requested (see
// OAuthClient) and reused until it expires.
func ParseConnections(data []byte) (Connections, error) {
	v, err := value.Parse(data)
	if err != nil {
		return nil, err
	}
	root, ok := v.(*value.Object)
	if !ok {
		return nil, fmt.Errorf("the connections file must be a JSON object, got %s", value.TypeName(v))
	}
	out := make(Connections, root.Len())
	for i := 0; i < root.Len(); i++ {
		arn, cv := root.At(i)
		o, ok := cv.(*value.Object)
		if !ok {
			return nil, fmt.Errorf("%s: must be an object, got %s", arn, value.TypeName(cv))
		}
		c := &Connection{}
		for j := 0; j < o.Len(); j++ {
			k, fv := o.At(j)
			var err error
			switch k {
			case "Headers", "QueryParameters", "BodyParameters":
				var p []Param
				if p, err = params(fv); err == nil {
					switch k {
					case "Headers":
						c.Headers = append(c.Headers, p...)
					case "QueryParameters":
						c.QueryParameters = append(c.QueryParameters, p...)
					default:
						c.BodyParameters = append(c.BodyParameters, p...)
					}
				}
			case "BasicAuth":
				var p []Param
				if p, err = fields(fv, "Username", "Password"); err == nil {
					cred := base64.StdEncoding.EncodeToString([]byte(p[0].Value + ":" + p[1].Value))
					c.Headers = append(c.Headers, Param{"Authorization", "Basic " + cred})
				}
			case "ApiKey":
				var p []Param
				if p, err = fields(fv, "Name", "Value"); err == nil {
					c.Headers = append(c.Headers, Param{p[0].Value, p[1].Value})
				}
			case "OAuth":
				if o, ok := fv.(*value.Object); ok && o.Has("AccessToken") {
					var p []Param
					if p, err = fields(fv, "AccessToken"); err == nil {
						c.Headers = append(c.Headers, Param{"Authorization", "Bearer " + p[0].Value})
					}
				} else {
					c.OAuth, err = parseOAuth(fv)
				}
			case "Endpoints":
				c.Endpoints, err = endpoints(fv)
			default:
				err = fmt.Errorf("unknown field (supported: Headers, QueryParameters, BodyParameters, BasicAuth, ApiKey, OAuth, Endpoints)")
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", arn, k, err)
			}
		}
		out[arn] = c
	}
	return out, nil
}

// endpoints reads ["https://host/path", ...].
func endpoints(v any) ([]string, error) {
	a, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("must be an array of URLs, got %s", value.TypeName(v))
	}
	out := make([]string, 0, len(a))
	for _, ev := range a {
		s, _ := ev.(string)
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			return nil, fmt.Errorf("%q is not an http(s) URL without a query", s)
		}
		out = append(out, s)
	}
	return out, nil
}

// params reads {"name": "value", ...}; values must be strings.
func params(v any) ([]Param, error) {
	o, ok := v.(*value.Object)
	if !ok {
		return nil, fmt.Errorf("must be an object, got %s", value.TypeName(v))
	}
	out := make([]Param, 0, o.Len())
	for i := 0; i < o.Len(); i++ {
		k, pv := o.At(i)
		s, ok := pv.(string)
		if !ok {
			return nil, fmt.Errorf("%s must be a string, got %s", k, value.TypeName(pv))
		}
		out = append(out, Param{k, s})
	}
	return out, nil
}

// fields reads the named string fields of an object, all required.
func fields(v any, names ...string) ([]Param, error) {
	o, ok := v.(*value.Object)
	if !ok {
		return nil, fmt.Errorf("must be an object, got %s", value.TypeName(v))
	}
	out := make([]Param, len(names))
	for i, n := range names {
		fv, ok := o.Get(n)
		s, isStr := fv.(string)
		if !ok || !isStr {
			return nil, fmt.Errorf("needs the string field %s", n)
		}
		out[i] = Param{n, s}
	}
	return out, nil
}

// parseOAuth reads the client credentials form of "OAuth".
func parseOAuth(v any) (*OAuthClient, error) {
	o, ok := v.(*value.Object)
	if !ok {
		return nil, fmt.Errorf("must be an object, got %s", value.TypeName(v))
	}
	req, err := fields(v, "AuthorizationEndpoint", "ClientID", "ClientSecret")
	if err != nil {
		return nil, fmt.Errorf("%w (or AccessToken)", err)
	}
	c := &OAuthClient{Endpoint: req[0].Value, ClientID: req[1].Value, ClientSecret: req[2].Value, Method: "POST"}
	for i := 0; i < o.Len(); i++ {
		k, fv := o.At(i)
		switch k {
		case "AuthorizationEndpoint", "ClientID", "ClientSecret":
		case "HttpMethod":
			m, ok := fv.(string)
			if !ok || (m != "GET" && m != "POST" && m != "PUT") {
				return nil, fmt.Errorf("HttpMethod must be GET, POST or PUT")
			}
			c.Method = m
		case "Headers":
			c.Headers, err = params(fv)
		case "QueryParameters":
			c.QueryParameters, err = params(fv)
		case "BodyParameters":
			c.BodyParameters, err = params(fv)
		default:
			err = fmt.Errorf("unknown field %s", k)
		}
		if err != nil {
			return nil, err
		}
	}
	return c, nil
}
