package lambda

import (
	"net/http"
	"slices"
	"strings"

	"github.com/stepwell/stepwell/value"
)

// invokeResult shapes a successful Invoke response as Step Functions returns
// it for lambda:invoke. The members are in the order AWS serialises them:
// ExecutedVersion, LogResult, Payload, SdkHttpMetadata{AllHttpHeaders,
// HttpHeaders, HttpStatusCode}, SdkResponseMetadata{RequestId}, StatusCode.
func invokeResult(resp *response) *value.Object {
	out := value.NewObject(7)
	if v := resp.header.Get("X-Amz-Executed-Version"); v != "" {
		out.Set("ExecutedVersion", v)
	}
	if v := resp.header.Get("X-Amz-Log-Result"); v != "" {
		out.Set("LogResult", v)
	}
	if len(resp.body) == 0 {
		out.Set("Payload", "")
	} else {
		out.Set("Payload", parsePayload(resp.body))
	}
	names := headerNames(resp.header)

	all := value.NewObject(len(names))
	for _, n := range javaHashMapOrder(names) {
		vals := resp.header.Values(n.canonical)
		list := make([]any, len(vals))
		for i, v := range vals {
			list[i] = v
		}
		all.Set(n.wire, list)
	}
	single := value.NewObject(len(names))
	for _, n := range caseInsensitiveOrder(names) {
		vals := resp.header.Values(n.canonical)
		single.Set(n.wire, vals[len(vals)-1])
	}
	meta := value.NewObject(3)
	meta.Set("AllHttpHeaders", all)
	meta.Set("HttpHeaders", single)
	meta.Set("HttpStatusCode", int64(resp.status))
	out.Set("SdkHttpMetadata", meta)

	rm := value.NewObject(1)
	rm.Set("RequestId", resp.header.Get("X-Amzn-Requestid"))
	out.Set("SdkResponseMetadata", rm)
	out.Set("StatusCode", int64(resp.status))
	return out
}

// headerName is a response header's name as Go stores it (canonical) and as
// Lambda spells it on the wire.
type headerName struct {
	canonical string
	wire      string
	rank      int // position in Lambda's usual header order
}

// lambdaHeaders lists the headers Lambda sends, spelt as Lambda spells them,
// in the order it sends them. Go canonicalises header names, so the
// spelling is restored from this table; the order decides ties in
// javaHashMapOrder.
var lambdaHeaders = []string{
	"Date",
	"Connection",
	"Content-Type",
	"X-Amz-Executed-Version",
	"x-amzn-Remapped-Content-Length",
	"x-amzn-RequestId",
	"X-Amzn-Trace-Id",
	"X-Amz-Log-Result",
	"X-Amz-Function-Error",
	"X-Amzn-ErrorType",
	"Content-Length",
}

var wireSpelling = func() map[string]int {
	m := make(map[string]int, len(lambdaHeaders))
	for i, h := range lambdaHeaders {
		m[http.CanonicalHeaderKey(h)] = i
	}
	return m
}()

// headerNames lists the response's headers in arrival order as far as it
// can be known: Lambda's own headers in Lambda's order, then any others
// sorted by name.
func headerNames(h http.Header) []headerName {
	names := make([]headerName, 0, len(h))
	for k, vals := range h {
		if len(vals) == 0 {
			continue
		}
		n := headerName{canonical: k, wire: k, rank: len(lambdaHeaders)}
		if i, ok := wireSpelling[k]; ok {
			n.wire, n.rank = lambdaHeaders[i], i
		}
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b headerName) int {
		if a.rank != b.rank {
			return a.rank - b.rank
		}
		return strings.Compare(a.wire, b.wire)
	})
	return names
}

// javaHashMapOrder returns names in the iteration order of a java.util.HashMap
// into which they were put in the given order: AWS builds AllHttpHeaders in
// such a map, and the order shows in the task result.
func javaHashMapOrder(names []headerName) []headerName {
	capacity := 16
	for len(names) > capacity*3/4 {
		capacity *= 2
	}
	type entry struct {
		bucket, seq int
		n           headerName
	}
	es := make([]entry, len(names))
	for i, n := range names {
		h := javaStringHash(n.wire)
		h ^= h >> 16
		es[i] = entry{bucket: int(h & uint32(capacity-1)), seq: i, n: n}
	}
	slices.SortStableFunc(es, func(a, b entry) int {
		if a.bucket != b.bucket {
			return a.bucket - b.bucket
		}
		return a.seq - b.seq
	})
	out := make([]headerName, len(es))
	for i, e := range es {
		out[i] = e.n
	}
	return out
}

// javaStringHash is java.lang.String.hashCode over UTF-16 code units.
func javaStringHash(s string) uint32 {
	var h uint32
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			h = 31*h + uint32(0xD800+(r>>10))
			h = 31*h + uint32(0xDC00+(r&0x3FF))
			continue
		}
		h = 31*h + uint32(r)
	}
	return h
}

// caseInsensitiveOrder sorts names as a TreeMap with
// String.CASE_INSENSITIVE_ORDER does (AWS's HttpHeaders).
func caseInsensitiveOrder(names []headerName) []headerName {
	out := slices.Clone(names)
	slices.SortFunc(out, func(a, b headerName) int {
		return strings.Compare(strings.ToLower(a.wire), strings.ToLower(b.wire))
	})
	return out
}
