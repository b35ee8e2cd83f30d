package app_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stepwell/stepwell/internal/app"
)

// TestExecutionLogs_Levels runs one failing execution per logging level
// through the server and reads the CloudWatch Logs records each level's
// log group got: ALL every event (with the execution data when asked),
// ERROR the failures, FATAL the execution's end, OFF nothing.
func TestExecutionLogs_Levels(t *testing.T) {
	dir := t.TempDir()
	cfg := app.DefaultConfig()
	cfg.Store = "memory"
	cfg.ExecutionLogs = dir + "/"
	s, err := app.NewWatched(context.Background(), cfg, slog.New(slog.DiscardHandler), app.Watch{Writes: writes})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler
	def := `{"StartAt":"P","States":{"P":{"Type":"Pass","Next":"F"},"F":{"Type":"Fail","Error":"E","Cause":"c"}}}`
	levels := []struct {
		level       string
		includeData bool
		want        []string
	}{
		{"ALL", true, []string{"ExecutionStarted", "PassStateEntered", "PassStateExited", "FailStateEntered", "ExecutionFailed"}},
		{"ERROR", false, []string{"FailStateEntered", "ExecutionFailed"}},
		{"FATAL", false, []string{"ExecutionFailed"}},
		{"OFF", false, nil},
	}
	arns := map[string]string{}
	for _, l := range levels {
		name := "logs-" + strings.ToLower(l.level)
		logging := map[string]any{"level": l.level, "includeExecutionData": l.includeData}
		if l.level != "OFF" {
			logging["destinations"] = []any{map[string]any{"cloudWatchLogsLogGroup": map[string]string{
				"logGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/states/" + name + ":*"}}}
		}
		var sm struct{ StateMachineArn string }
		call(t, h, "CreateStateMachine", map[string]any{"name": name, "definition": def,
			"roleArn": "arn:aws:iam::123456789012:role/r", "loggingConfiguration": logging}, &sm)
		var x struct{ ExecutionArn string }
		call(t, h, "StartExecution", map[string]string{"stateMachineArn": sm.StateMachineArn, "input": `{"secret":1}`}, &x)
		waitStatus(t, h, x.ExecutionArn, "FAILED")
		arns[l.level] = x.ExecutionArn
	}
	// Close waits until the executions are done recording (and logging).
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, l := range levels {
		file := filepath.Join(dir, "_aws_vendedlogs_states_logs-"+strings.ToLower(l.level)+".log")
		b, err := os.ReadFile(file)
		if l.want == nil {
			if !os.IsNotExist(err) {
				t.Errorf("%s: a log file (%v): %s", l.level, err, b)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", l.level, err)
		}
		var types []string
		for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			var rec map[string]json.RawMessage
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("%s: not a JSON record: %q", l.level, line)
			}
			var typ, arn, ts, id string
			for k, p := range map[string]*string{"type": &typ, "execution_arn": &arn, "event_timestamp": &ts, "id": &id} {
				if err := json.Unmarshal(rec[k], p); err != nil || *p == "" {
					t.Errorf("%s: %s is not a string in %s", l.level, k, line)
				}
			}
			for _, k := range []string{"details", "previous_event_id", "redrive_count"} {
				if rec[k] == nil {
					t.Errorf("%s: no %s in %s", l.level, k, line)
				}
			}
			if arn != arns[l.level] {
				t.Errorf("%s: execution_arn %s, want %s", l.level, arn, arns[l.level])
			}
			if typ == "ExecutionStarted" && strings.Contains(string(rec["details"]), "secret") != l.includeData {
				t.Errorf("%s: includeExecutionData %t, details %s", l.level, l.includeData, rec["details"])
			}
			if typ == "ExecutionFailed" {
				var d map[string]string
				if err := json.Unmarshal(rec["details"], &d); err != nil || len(d) != 2 || d["error"] != "E" || d["cause"] != "c" {
					t.Errorf("%s: ExecutionFailed details %s", l.level, rec["details"])
				}
			}
			types = append(types, typ)
		}
		if !slices.Equal(types, l.want) {
			t.Errorf("%s: records %v, want %v", l.level, types, l.want)
		}
	}
}

// TestRequestLog_Debug: at debug level, one line per API request.
func TestRequestLog_Debug(t *testing.T) {
	var buf syncBuffer
	cfg := app.DefaultConfig()
	cfg.Store = "memory"
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := app.New(context.Background(), cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	call(t, s.Handler, "ListStateMachines", map[string]any{}, nil)
	var line struct{ Level, Msg, Operation, Error string }
	for _, l := range strings.Split(buf.String(), "\n") {
		if strings.Contains(l, `"msg":"request"`) {
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatal(err)
			}
		}
	}
	if line.Level != "DEBUG" || line.Operation != "ListStateMachines" || line.Error != "" {
		t.Fatalf("request line %+v in %s", line, buf.String())
	}
}
