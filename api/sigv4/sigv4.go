// Package sigv4 verifies AWS Signature Version 4 (header form,
// AWS4-HMAC-SHA256) on the requests the API serves, against the access
// keys the operator configures (Keys, read from a credentials file), with
// AWS's rules and messages: the credential scope (date, region, service,
// terminator), a request date within 15 minutes of the server's clock
// (X-Amz-Date, or Date), X-Amz-Security-Token, and the payload hash
// (X-Amz-Content-Sha256, UNSIGNED-PAYLOAD over HTTPS only).
//
// The canonical request is built here rather than by re-signing with the
// AWS SDK's signer: the SDK's signer leaves out headers some clients sign
// (User-Agent, for the AWS SDKs for Java 1.x and C++), so a request
// signed by them could not be verified, and AWS's InvalidSignatureException
// quotes the canonical request and string to sign the server computed,
// which the SDK's signer does not return. The tests check this package
// against the SDK's signer.
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Algorithm is the only signing algorithm accepted.
const Algorithm = "AWS4-HMAC-SHA256"

// MaxSkew is how far a request's date may be from the server's clock.
const MaxSkew = 15 * time.Minute

// UnsignedPayload is X-Amz-Content-Sha256's value for a body the
// signature does not cover.
const UnsignedPayload = "UNSIGNED-PAYLOAD"

const (
	amzDateLayout = "20060102T150405Z"
	scopeDate     = "20060102"
	terminator    = "aws4_request"
)

// Kind classifies a verification failure; each is one of AWS's error types.
type Kind uint8

// The kinds of failure.
const (
	// MissingToken: no Authorization header
	// (MissingAuthenticationTokenException).
	MissingToken Kind = iota + 1
	// Incomplete: the Authorization header lacks a part or is malformed
	// (IncompleteSignatureException).
	Incomplete
	// UnknownKey: the access key, or the security token sent with it, is
	// not known (UnrecognizedClientException).
	UnknownKey
	// BadSignature: the signature does not match, the scope is wrong, or
	// the date is too far from the server's clock
	// (InvalidSignatureException).
	BadSignature
)

// Error is a verification failure, with AWS's message.
type Error struct {
	Kind    Kind
	Message string
}

func (e *Error) Error() string { return e.Message }

// messages of UnrecognizedClientException and MissingAuthenticationTokenException.
const (
	msgMissing      = "Request is missing Authentication Token"
	msgUnrecognized = "The security token included in the request is invalid."
	msgMismatch     = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// Verifier checks requests against Keys.
type Verifier struct {
	// Keys are the accepted access keys.
	Keys *Keys
	// Service and Region are the credential scope's (e.g. "states",
	// "us-east-1").
	Service, Region string
	// Now returns the current time (default time.Now).
	Now func() time.Time
}

// Verify checks the signature of r, whose body is body (already read),
// and returns the key that signed it. secure tells whether r came over
// TLS (UNSIGNED-PAYLOAD is accepted only then). A failure is an *Error.
func (v *Verifier) Verify(r *http.Request, body []byte, secure bool) (*Key, error) {
	authz := r.Header.Values("Authorization")
	if len(authz) == 0 {
		return nil, &Error{MissingToken, msgMissing}
	}
	if len(authz) > 1 {
		return nil, &Error{Incomplete, "Only one Authorization header may be given."}
	}
	h := strings.Join(authz, "")
	a, err := ParseAuthorization(h)
	if err != nil {
		return nil, err
	}
	date, amzDate, err := requestDate(r, h)
	if err != nil {
		return nil, err
	}
	key := v.Keys.lookup(a.AccessKeyID)
	if key == nil {
		return nil, &Error{UnknownKey, msgUnrecognized}
	}
	if tok := r.Header.Values("X-Amz-Security-Token"); len(tok) > 0 || key.SessionToken != "" {
		if len(tok) != 1 || subtle.ConstantTimeCompare([]byte(tok[0]), []byte(key.SessionToken)) != 1 {
			return nil, &Error{UnknownKey, msgUnrecognized}
		}
	}
	if err := v.checkScope(a, amzDate); err != nil {
		return nil, err
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	if err := checkSkew(date, now().UTC()); err != nil {
		return nil, err
	}
	if !slices.Contains(a.SignedHeaders, "host") {
		return nil, &Error{BadSignature, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."}
	}
	payload, err := payloadHash(r, body, secure)
	if err != nil {
		return nil, err
	}
	creq := CanonicalRequest(r, a.SignedHeaders, payload)
	sts := StringToSign(amzDate, a.Scope(), creq)
	want := Signature(key.signingKey(a), sts)
	if !hmac.Equal([]byte(want), []byte(a.Signature)) {
		return nil, &Error{BadSignature, msgMismatch + "\n\nThe Canonical String for this request should have been\n'" + creq +
			"'\n\nThe String-to-Sign should have been\n'" + sts + "'\n"}
	}
	return key, nil
}

// checkScope checks the credential scope against the request's date and
// the verifier's region and service.
func (v *Verifier) checkScope(a *Authorization, amzDate string) error {
	if a.Date != amzDate[:8] {
		return &Error{BadSignature, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '" +
			a.Date + "' != '" + amzDate[:8] + "', from '" + amzDate + "'."}
	}
	if a.Region != v.Region {
		return &Error{BadSignature, "Credential should be scoped to a valid region, not '" + a.Region + "'. "}
	}
	if a.Service != v.Service {
		return &Error{BadSignature, "Credential should be scoped to correct service: '" + v.Service + "'. "}
	}
	if a.Terminator != terminator {
		return &Error{BadSignature, "Credential should be scoped with a valid terminator: 'aws4_request', not '" + a.Terminator + "'. "}
	}
	return nil
}

// checkSkew refuses a request date more than MaxSkew from now.
func checkSkew(date, now time.Time) error {
	f := func(t time.Time) string { return t.UTC().Format(amzDateLayout) }
	switch {
	case date.Before(now.Add(-MaxSkew)):
		return &Error{BadSignature, "Signature expired: " + f(date) + " is now earlier than " + f(now.Add(-MaxSkew)) +
			" (" + f(now) + " - 15 min.)"}
	case date.After(now.Add(MaxSkew)):
		return &Error{BadSignature, "Signature not yet current: " + f(date) + " is still later than " + f(now.Add(MaxSkew)) +
			" (" + f(now) + " + 15 min.)"}
	}
	return nil
}

// requestDate returns the request's date from X-Amz-Date (or, without
// it, Date) and its ISO-8601 basic form, which the string to sign uses.
func requestDate(r *http.Request, authz string) (time.Time, string, error) {
	if v := r.Header.Get("X-Amz-Date"); v != "" {
		t, err := time.Parse(amzDateLayout, v)
		if err != nil {
			return time.Time{}, "", &Error{Incomplete, "Date must be in ISO-8601 'basic format'. Got '" + v +
				"'. See http://en.wikipedia.org/wiki/ISO_8601"}
		}
		return t, v, nil
	}
	if v := r.Header.Get("Date"); v != "" {
		t, err := http.ParseTime(v)
		if err == nil {
			return t, t.UTC().Format(amzDateLayout), nil
		}
	}
	return time.Time{}, "", &Error{Incomplete, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=" + authz}
}

// payloadHash returns the hash the canonical request ends with:
// X-Amz-Content-Sha256 when sent (which must be the body's hash, or
// UNSIGNED-PAYLOAD over TLS), else the body's SHA-256.
func payloadHash(r *http.Request, body []byte, secure bool) (string, error) {
	sum := sha256.Sum256(body)
	actual := hex.EncodeToString(sum[:])
	claimed := r.Header.Get("X-Amz-Content-Sha256")
	switch {
	case claimed == "":
		return actual, nil
	case claimed == UnsignedPayload:
		if !secure {
			return "", &Error{BadSignature, "UNSIGNED-PAYLOAD is accepted over HTTPS only: over HTTP the payload must be signed."}
		}
		return claimed, nil
	case !strings.EqualFold(claimed, actual):
		return "", &Error{BadSignature, "The provided 'x-amz-content-sha256' header does not match what was computed."}
	}
	return claimed, nil
}

// CanonicalRequest returns r's canonical request over the signed headers
// (lower case, sorted, as the Authorization header lists them), ending
// with the payload hash.
func CanonicalRequest(r *http.Request, signed []string, payloadHash string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	b.WriteString(uriEncode(path, false))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery))
	b.WriteByte('\n')
	for _, name := range signed {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(headerValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// headerValue is a signed header's canonical value: its values trimmed,
// inner runs of spaces collapsed, joined with commas. Host and
// Content-Length, which net/http takes out of the header map, come from
// the request.
func headerValue(r *http.Request, name string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{r.Host}
	case "content-length":
		vals = r.Header.Values("Content-Length")
		if len(vals) == 0 && r.ContentLength >= 0 {
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	case "transfer-encoding":
		vals = r.Header.Values("Transfer-Encoding")
		if len(vals) == 0 {
			vals = r.TransferEncoding
		}
	default:
		vals = r.Header.Values(name)
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(out, ",")
}

// canonicalQuery sorts the query's parameters by name, then value, each
// URI-encoded as AWS encodes them.
func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	type pair struct{ k, v string }
	var ps []pair
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if dv, err := url.QueryUnescape(v); err == nil {
			v = dv
		}
		ps = append(ps, pair{uriEncode(k, true), uriEncode(v, true)})
	}
	slices.SortFunc(ps, func(a, b pair) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// uriEncode percent-encodes every byte but the unreserved characters
// (A-Z a-z 0-9 - . _ ~), and '/' unless encodeSlash.
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		case c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

// StringToSign returns the string to sign for a canonical request.
func StringToSign(amzDate, scope, canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	return Algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
}

// SigningKey derives the key that signs requests of one day, region and
// service.
func SigningKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, terminator)
}

// Signature returns the hex signature of a string to sign.
func Signature(signingKey []byte, stringToSign string) string {
	return hex.EncodeToString(hmacSHA256(signingKey, stringToSign))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
