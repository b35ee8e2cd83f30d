package api

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// corsAllowHeaders are the request headers a browser may send: those the
// AWS SDK for JavaScript sends with a Step Functions request (signed or
// not, with temporary credentials or not).
var corsAllowHeaders = strings.Join([]string{
	"authorization", "content-type", "x-amz-date", "x-amz-target", "x-amz-user-agent",
	"x-amz-security-token", "x-amz-content-sha256", "amz-sdk-invocation-id", "amz-sdk-request",
}, ", ")

// corsExposeHeaders are the response headers a browser lets the page read:
// the request id and the error type the SDK reads errors from.
var corsExposeHeaders = "x-amzn-requestid, x-amzn-errortype, x-amz-request-id, date"

// corsMaxAge is how long (seconds) a browser may reuse a preflight answer.
const corsMaxAge = "600"

// ParseCORSOrigins parses a comma-separated list of the origins browsers
// may call the server from: each "*" (any origin) or scheme://host[:port]
// (http or https, no path), as a browser sends it in the Origin header.
func ParseCORSOrigins(list string) ([]string, error) {
	var out []string
	for _, o := range strings.Split(list, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if o != "*" {
			u, err := url.Parse(o)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
				(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
				return nil, fmt.Errorf("%q is not an origin (* or http(s)://HOST[:PORT])", o)
			}
			o = strings.ToLower(u.Scheme + "://" + u.Host)
		}
		out = append(out, o)
	}
	return out, nil
}

// CORS returns next answering the browsers of origins (ParseCORSOrigins)
// as the CORS protocol asks: a preflight request (OPTIONS with
// Access-Control-Request-Method) from an allowed origin is answered 204
// with the methods and headers the AWS SDK for JavaScript needs, one from
// another origin 403; the other requests from an allowed origin are served
// by next with Access-Control-Allow-Origin, and from another origin
// without it (the browser then hides the answer from the page). Requests
// without an Origin header (other clients) are next's alone. No cookies
// are involved: requests carry their credentials in a SigV4 signature.
func CORS(origins []string, next http.Handler) http.Handler {
	if len(origins) == 0 {
		return next
	}
	anyOrigin := slices.Contains(origins, "*")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		allowed := anyOrigin || slices.Contains(origins, strings.ToLower(origin))
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		if preflight {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			if !allowed {
				http.Error(w, "stepwell: the origin "+fmt.Sprintf("%q", origin)+" may not call this server (see --cors-origin)", http.StatusForbidden)
				return
			}
			h.Set("Access-Control-Allow-Origin", allowOrigin(anyOrigin, origin))
			h.Set("Access-Control-Allow-Methods", "POST, GET")
			h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
			h.Set("Access-Control-Max-Age", corsMaxAge)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if allowed {
			h.Set("Access-Control-Allow-Origin", allowOrigin(anyOrigin, origin))
			h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		}
		next.ServeHTTP(w, r)
	})
}

// allowOrigin is the Access-Control-Allow-Origin of an allowed request.
func allowOrigin(anyOrigin bool, origin string) string {
	if anyOrigin {
		return "*"
	}
	return origin
}
