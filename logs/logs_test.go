package logs_test

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/logs"
)

func TestLogged(t *testing.T) {
	for _, c := range []struct {
		typ                   history.EventType
		all, error, fatal, of bool
	}{
		{history.ExecutionStarted, true, false, false, false},
		{history.PassStateEntered, true, false, false, false},
		{history.FailStateEntered, true, true, false, false},
		{history.TaskFailed, true, true, false, false},
		{history.ActivityTimedOut, true, true, false, false},
		{history.LambdaFunctionScheduleFailed, true, true, false, false},
		{history.MapStateAborted, true, true, false, false},
		{history.ExecutionSucceeded, true, false, false, false},
		{history.ExecutionFailed, true, true, true, false},
		{history.ExecutionAborted, true, true, true, false},
		{history.ExecutionTimedOut, true, true, true, false},
	} {
		for level, want := range map[string]bool{logs.LevelAll: c.all, logs.LevelError: c.error, logs.LevelFatal: c.fatal, logs.LevelOff: c.of} {
			if got := logs.Logged(level, c.typ); got != want {
				t.Errorf("Logged(%s, %s) = %t", level, c.typ, got)
			}
		}
	}
}

func TestRecord(t *testing.T) {
	e := history.Event{Type: history.TaskScheduled, ID: 4, PreviousEventID: 3, Timestamp: time.UnixMilli(1733540400123),
		TaskScheduledEventDetails: &history.TaskScheduledEventDetails{Resource: "invoke", ResourceType: "lambda", Region: "us-east-1", Parameters: `{"secret":1}`}}
	for _, c := range []struct {
		include bool
		want    string
	}{
		{false, `{"id":"4","type":"TaskScheduled","details":{"region":"us-east-1","resource":"invoke","resourceType":"lambda"},"previous_event_id":"3","event_timestamp":"1733540400123","execution_arn":"arn:x","redrive_count":"0"}`},
		{true, `{"id":"4","type":"TaskScheduled","details":{"resourceType":"lambda","resource":"invoke","region":"us-east-1","parameters":"{\"secret\":1}"},"previous_event_id":"3","event_timestamp":"1733540400123","execution_arn":"arn:x","redrive_count":"0"}`},
	} {
		b, err := logs.Record(&e, "arn:x", "0", c.include)
		if err != nil {
			t.Fatal(err)
		}
		var got, want any
		_ = json.Unmarshal(b, &got)
		_ = json.Unmarshal([]byte(c.want), &want)
		if gb, _ := json.Marshal(got); string(gb) != string(mustJSON(t, want)) {
			t.Errorf("include %t:\n got %s\nwant %s", c.include, b, c.want)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestConfig_LogGroup(t *testing.T) {
	var c logs.Config
	if err := json.Unmarshal([]byte(`{"level":"ALL","destinations":[{"cloudWatchLogsLogGroup":{"logGroupArn":"arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/states/orders:*"}}]}`), &c); err != nil {
		t.Fatal(err)
	}
	if g := c.LogGroup(); g != "/aws/vendedlogs/states/orders" || logs.FileName(g) != "_aws_vendedlogs_states_orders.log" {
		t.Fatalf("log group %q, file %q", g, logs.FileName(g))
	}
}

// blockedSink blocks every write until release is closed, then counts.
type blockedSink struct {
	release chan struct{}
	mu      sync.Mutex
	n       int
}

func (s *blockedSink) Write(string, []byte) error {
	<-s.release
	s.mu.Lock()
	s.n++
	s.mu.Unlock()
	return nil
}

// TestWriter_NeverBlocksExecutions: a sink that does not keep up makes
// the writer drop records, never wait.
func TestWriter_NeverBlocksExecutions(t *testing.T) {
	sink := &blockedSink{release: make(chan struct{})}
	w := logs.New(sink, nil)
	wa := w.Watch(executions.Watched{ExecutionARN: "arn:x", Logging: []byte(`{"level":"ALL","destinations":[{"cloudWatchLogsLogGroup":{"logGroupArn":"arn:aws:logs:us-east-1:123456789012:log-group:g:*"}}]}`)})
	if wa == nil {
		t.Fatal("level ALL not watched")
	}
	const total = logs.QueueLength + 100
	events := make([]history.Event, total)
	for i := range events {
		events[i] = history.Event{Type: history.PassStateEntered, ID: int64(i + 1)}
	}
	wa.Recorded(events) // returns although the sink writes nothing
	if d := w.Dropped(); d < 99 {
		t.Fatalf("%d records dropped, want at least 99", d)
	}
	close(sink.release)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if uint64(sink.n)+w.Dropped() != total {
		t.Fatalf("%d written + %d dropped, want %d", sink.n, w.Dropped(), total)
	}
	if off := w.Watch(executions.Watched{Logging: []byte(`{"level":"OFF"}`)}); off != nil {
		t.Fatal("level OFF watched")
	}
}
