package httptask

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/internal/clock"
)

// OAuthClient gets access tokens with the OAuth 2.0 client credentials
// grant, as an EventBridge connection with OAuth authorization does: a
// request to Endpoint with the client's id and secret (HTTP Basic), the
// form field grant_type=client_credentials and the extra parameters. A
// token is reused until shortly before it expires.
type OAuthClient struct {
	Endpoint     string
	Method       string // GET, POST (default) or PUT
	ClientID     string
	ClientSecret string
	// Extra parameters of the token request.
	Headers, QueryParameters, BodyParameters []Param
	// Clock tells when a token expires (default clock.Real).
	Clock clock.Clock

	mu      sync.Mutex
	token   string
	expires time.Time
}

// connectionError names a failure to authorize through a connection.
func connectionError(cause string) *fault.Error {
	return fault.New("Events.ConnectionResource.InvalidConnectionState", cause)
}

// Token returns a valid access token, requesting a new one when needed.
func (o *OAuthClient) Token(ctx context.Context, client *http.Client) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	c := o.Clock
	if c == nil {
		c = clock.Real{}
	}
	if o.token != "" && c.Now().Before(o.expires) {
		return o.token, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	for _, p := range o.BodyParameters {
		form.Set(p.Name, p.Value)
	}
	u, err := url.Parse(o.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", connectionError("The OAuth AuthorizationEndpoint '" + o.Endpoint + "' is not a valid http or https URL.")
	}
	q := u.Query()
	for _, p := range o.QueryParameters {
		q.Set(p.Name, p.Value)
	}
	var body io.Reader
	method := o.Method
	if method == "" {
		method = http.MethodPost
	}
	if method == http.MethodGet {
		for k, v := range form {
			q[k] = v
		}
	} else {
		body = strings.NewReader(form.Encode())
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return "", connectionError("The OAuth token request cannot be built: " + err.Error())
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "application/json")
	for _, p := range o.Headers {
		req.Header.Set(p.Name, p.Value)
	}
	req.SetBasicAuth(o.ClientID, o.ClientSecret)
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", connectionError("The OAuth token request failed: " + err.Error())
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", connectionError("The OAuth token request failed: " + err.Error())
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", connectionError("The OAuth authorization endpoint answered " + resp.Status + ": " + string(data))
	}
	var tok struct {
		AccessToken string   `json:"access_token"`
		ExpiresIn   *float64 `json:"expires_in"`
	}
	if json.Unmarshal(data, &tok) != nil || tok.AccessToken == "" {
		return "", connectionError("The OAuth authorization endpoint answered no access_token: " + string(data))
	}
	o.token = tok.AccessToken
	o.expires = c.Now().Add(time.Hour)
	if tok.ExpiresIn != nil {
		// Renew a little early; a token valid for less than that is used once.
		o.expires = c.Now().Add(time.Duration(*tok.ExpiresIn*float64(time.Second)) - 30*time.Second)
	}
	return o.token, nil
}
