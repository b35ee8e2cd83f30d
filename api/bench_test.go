package api_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkHTTP_BareHandler is the baseline for BenchmarkHTTP_StartSyncExecution:
// a net/http handler that answers a fixed JSON body over the same transport.
func BenchmarkHTTP_BareHandler(b *testing.B) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = io.WriteString(w, `{"status":"SUCCEEDED","output":"{}"}`)
	})
	benchHTTP(b, h, `{"stateMachineArn":"x","input":"{\"a\":1}"}`)
}

// BenchmarkHTTP_StartSyncExecution measures an Express execution of a
// two-state machine through the whole API over HTTP.
func BenchmarkHTTP_StartSyncExecution(b *testing.B) {
	s := newServer(b)
	sm := create(b, s, "bench", `{"StartAt":"A","States":{"A":{"Type":"Pass","Result":1,"ResultPath":"$.r","Next":"B"},"B":{"Type":"Succeed"}}}`, "EXPRESS")
	benchHTTP(b, s, `{"stateMachineArn":"`+sm+`","input":"{\"a\":1}"}`)
}

func benchHTTP(b *testing.B, h http.Handler, body string) {
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := srv.Client()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(body))
			req.Header.Set("X-Amz-Target", "AWSStepFunctions.StartSyncExecution")
			req.Header.Set("Content-Type", "application/x-amz-json-1.0")
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			out, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(out), `"SUCCEEDED"`) {
				b.Fatalf("%d %s", resp.StatusCode, out)
			}
		}
	})
}
