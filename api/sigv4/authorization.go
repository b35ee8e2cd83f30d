package sigv4

import (
	"strings"
)

// Authorization is a parsed SigV4 Authorization header:
//
//	AWS4-HMAC-SHA256 Credential=KEY/20150830/us-east-1/states/aws4_request, SignedHeaders=host;x-amz-date, Signature=5d67…
type Authorization struct {
	// AccessKeyID, Date (YYYYMMDD), Region, Service and Terminator are
	// the Credential's five elements.
	AccessKeyID, Date, Region, Service, Terminator string
	// SignedHeaders are the names of the signed headers, as given.
	SignedHeaders []string
	// Signature is the hex signature, as given.
	Signature string
}

// Scope returns the credential scope: date/region/service/aws4_request.
func (a *Authorization) Scope() string {
	return a.Date + "/" + a.Region + "/" + a.Service + "/" + a.Terminator
}

// ParseAuthorization parses an Authorization header. A malformed header
// is an *Error of kind Incomplete with AWS's message.
func ParseAuthorization(h string) (*Authorization, error) {
	alg, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if alg != Algorithm && strings.HasPrefix(alg, "AWS4-") {
		return nil, &Error{Incomplete, "Unsupported AWS 'algorithm': '" + alg + "'. Stepwell supports " + Algorithm + " only."}
	}
	if alg != Algorithm {
		rest = "" // not a SigV4 header: none of its parameters is there
	}
	var cred, signed, sig string
	var haveCred, haveSigned, haveSig bool
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, &Error{Incomplete, "'" + part + "' not a valid key=value pair (missing equal-sign) in Authorization header: '" + h + "'."}
		}
		switch k {
		case "Credential":
			cred, haveCred = v, true
		case "SignedHeaders":
			signed, haveSigned = v, true
		case "Signature":
			sig, haveSig = v, true
		}
	}
	var missing strings.Builder
	for _, p := range []struct {
		name string
		ok   bool
	}{{"Credential", haveCred}, {"Signature", haveSig}, {"SignedHeaders", haveSigned}} {
		if !p.ok {
			missing.WriteString("Authorization header requires '" + p.name + "' parameter. ")
		}
	}
	if missing.Len() > 0 {
		return nil, &Error{Incomplete, missing.String() + "Authorization=" + h}
	}
	elems := strings.Split(cred, "/")
	if len(elems) != 5 || elems[0] == "" {
		return nil, &Error{Incomplete, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '" + cred + "'"}
	}
	a := &Authorization{
		AccessKeyID: elems[0], Date: elems[1], Region: elems[2], Service: elems[3], Terminator: elems[4],
		Signature: sig,
	}
	if signed == "" {
		return nil, &Error{Incomplete, "Authorization header requires 'SignedHeaders' parameter. Authorization=" + h}
	}
	a.SignedHeaders = strings.Split(signed, ";")
	for _, name := range a.SignedHeaders {
		if name == "" {
			return nil, &Error{Incomplete, "SignedHeaders may not contain an empty header name: '" + signed + "'."}
		}
	}
	return a, nil
}
