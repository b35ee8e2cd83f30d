package lambda

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sort"
	"strings"
)

// sign adds AWS Signature Version 4 headers for the lambda service, so that
// endpoints which check the shape of signed requests accept ours. Local
// emulators do not verify the signature itself.
func (inv *Invoker) sign(r *http.Request, payload []byte, region string) {
	if inv.AccessKeyID == "" {
		return
	}
	now := inv.now().UTC()
	amzDate := now.Format("20060102T150405Z")
	day := now.Format("20060102")
	payloadHash := sha256Hex(payload)
	r.Header.Set("X-Amz-Date", amzDate)
	r.Header.Set("X-Amz-Content-Sha256", payloadHash)

	// Canonical headers: host plus every x-amz-* and content-type header.
	hdrs := map[string]string{"host": r.URL.Host}
	for k, v := range r.Header {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-amz-") || lk == "content-type" {
			hdrs[lk] = strings.TrimSpace(strings.Join(v, ","))
		}
	}
	keys := make([]string, 0, len(hdrs))
	for k := range hdrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var canonHeaders strings.Builder
	for _, k := range keys {
		canonHeaders.WriteString(k + ":" + hdrs[k] + "\n")
	}
	signed := strings.Join(keys, ";")

	// Services other than S3 encode the already-encoded path once more.
	canonURI := escapeSigV4Path(r.URL.EscapedPath())
	canonQuery := ""
	if q := r.URL.Query(); len(q) > 0 {
		qk := make([]string, 0, len(q))
		for k := range q {
			qk = append(qk, k)
		}
		sort.Strings(qk)
		parts := make([]string, 0, len(qk))
		for _, k := range qk {
			for _, v := range q[k] {
				parts = append(parts, escapePathSegment(k)+"="+escapePathSegment(v))
			}
		}
		canonQuery = strings.Join(parts, "&")
	}
	canonical := strings.Join([]string{r.Method, canonURI, canonQuery, canonHeaders.String(), signed, payloadHash}, "\n")
	scope := day + "/" + region + "/lambda/aws4_request"
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + sha256Hex([]byte(canonical))

	k := hmacSHA256([]byte("AWS4"+inv.SecretAccessKey), day)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, "lambda")
	k = hmacSHA256(k, "aws4_request")
	sig := hex.EncodeToString(hmacSHA256(k, toSign))
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+inv.AccessKeyID+"/"+scope+
		", SignedHeaders="+signed+", Signature="+sig)
}

// escapeSigV4Path encodes each path segment again, keeping the slashes.
func escapeSigV4Path(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = escapePathSegment(s)
	}
	return strings.Join(segs, "/")
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
