package s3items_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/executions"
	awsint "github.com/stepwell/stepwell/integrations/aws"
	"github.com/stepwell/stepwell/integrations/s3items"
	"github.com/stepwell/stepwell/store/memory"
)

// fakeS3 is an in-process S3 over real HTTP (path-style): GET of any key
// streams n JSONL items {"id":i,"name":"item-i"} generated as they are
// sent; PUT reads and counts the body.
type fakeS3 struct {
	n       int
	written atomic.Int64
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		w.Header().Set("Content-Type", "application/x-ndjson")
		bw := bufio.NewWriterSize(w, 64<<10)
		var line []byte
		for i := 0; i < f.n; i++ {
			line = append(line[:0], `{"id":`...)
			line = strconv.AppendInt(line, int64(i), 10)
			line = append(line, `,"name":"item-`...)
			line = strconv.AppendInt(line, int64(i), 10)
			line = append(line, "\"}\n"...)
			if _, err := bw.Write(line); err != nil {
				return
			}
		}
		_ = bw.Flush()
	case http.MethodPut:
		n, _ := io.Copy(io.Discard, r.Body)
		f.written.Add(n)
		w.Header().Set("ETag", `"0"`)
	default:
		http.Error(w, "not implemented", http.StatusNotImplemented)
	}
}

// peakRSS is the process's peak resident set size in bytes (VmHWM), or 0.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkDistributedMap runs a Distributed Map over STEPWELL_DM_ITEMS
// (default 1,000,000) JSONL items read from an in-process S3 over HTTP,
// with Express children of one Pass state, MaxConcurrency 1,000
// (STEPWELL_DM_CONCURRENCY), and a
// ResultWriter exporting to it; it reports items/s and the process's peak
// RSS (the engine runs in the benchmark's process). The parent's
// ChildRunner is an executions.Service whose Express store is the server's
// (10,000 closed executions kept, within 32 MiB): each child is recorded
// there as the server records it (ListExecutions by mapRunArn).
func BenchmarkDistributedMap(b *testing.B) {
	n := 1000000
	if s := os.Getenv("STEPWELL_DM_ITEMS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	conc := "1000"
	if s := os.Getenv("STEPWELL_DM_CONCURRENCY"); s != "" {
		conc = s
	}
	isolate(b)
	fake := &fakeS3{n: n}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	in, err := awsint.New(awsint.Config{Endpoints: map[string]string{"s3": srv.URL}, Region: "us-east-1",
		Static: &aws.Credentials{AccessKeyID: "x", SecretAccessKey: "x"}})
	if err != nil {
		b.Fatal(err)
	}
	items := s3items.New(in)
	eng := engine.New(engine.Config{Region: "us-east-1", AccountID: "111111111111", Items: items, Results: items})
	svc := executions.New(executions.Config{Store: memory.New(memory.Options{}), Engine: eng,
		Express: memory.New(memory.Options{MaxClosedExecutions: 10000, MaxClosedBytes: 32 << 20})})
	defer func() { _ = svc.Close(context.Background()) }()
	sm, err := asl.Load([]byte(`{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":`+conc+`,
		"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSONL"},"Parameters":{"Bucket":"b","Key":"items.jsonl"}},
		"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},
		"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"b","Prefix":"out"}},"End":true}}}`), asl.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for i := 0; i < b.N; i++ {
		x := &engine.Execution{ARN: "arn:aws:states:us-east-1:111111111111:execution:dm:r" + strconv.Itoa(i), Name: "r",
			StateMachineARN: "arn:aws:states:us-east-1:111111111111:stateMachine:dm", StateMachineName: "dm",
			Type: "STANDARD", Input: `{}`, StartTime: time.Now(), Machine: sm, Children: svc}
		res := eng.Execute(context.Background(), x, nil)
		if res.Status != engine.StatusSucceeded {
			b.Fatalf("status %s: %s %s", res.Status, deref(res.Error), deref(res.Cause))
		}
	}
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	b.ReportMetric(float64(n)*float64(b.N)/elapsed.Seconds(), "items/s")
	// CPU time per item (the process's user and system time): what the
	// figure above would be on idle cores, whatever else the machine runs.
	b.ReportMetric(float64(cpu.Microseconds())/float64(n)/float64(b.N), "cpu-µs/item")
	b.ReportMetric(float64(peakRSS())/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(float64(fake.written.Load())/float64(b.N)/(1<<20), "MiB-written/op")
}
