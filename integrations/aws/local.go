package awsint

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
)

// localBase is the base URL of services served in-process (Config.Local):
// requests never leave the process, whatever the host.
const localBase = "http://local.stepwell"

// localClient sends every request to h in-process: an aws.HTTPClient for
// the services of Config.Local.
type localClient struct {
	h http.Handler
}

// Do serves req with the handler and returns its response.
func (c localClient) Do(req *http.Request) (*http.Response, error) {
	w := &responseBuffer{header: make(http.Header)}
	c.h.ServeHTTP(w, req)
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if req.Body != nil {
		_ = req.Body.Close()
	}
	w.header.Set("Content-Length", strconv.Itoa(w.body.Len()))
	return &http.Response{
		Status: strconv.Itoa(w.status) + " " + http.StatusText(w.status), StatusCode: w.status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: w.header, Body: io.NopCloser(&w.body), ContentLength: int64(w.body.Len()), Request: req,
	}, nil
}

// responseBuffer is an http.ResponseWriter that keeps the response.
type responseBuffer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *responseBuffer) Header() http.Header { return w.header }

func (w *responseBuffer) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *responseBuffer) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}
