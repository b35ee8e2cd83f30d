package history_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stepwell/stepwell/history"
)

func TestEvent_JSONRoundTrip(t *testing.T) {
	e := history.Event{
		Timestamp: time.UnixMilli(1700000000123).UTC(),
		Type:      history.PassStateEntered,
		ID:        2,
		StateEnteredEventDetails: &history.StateEnteredEventDetails{
			Name: "A", Input: `{"a":1}`, InputDetails: history.Data(false),
		},
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"timestamp":1700000000.123,"type":"PassStateEntered","id":2,"previousEventId":0,"stateEnteredEventDetails":{"name":"A","input":"{\"a\":1}","inputDetails":{"truncated":false}}}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	var back history.Event
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Timestamp.Equal(e.Timestamp) || back.StateEnteredEventDetails.Name != "A" {
		t.Fatalf("round trip: %+v", back)
	}
}

func TestEvent_WithoutData(t *testing.T) {
	tests := []struct {
		name string
		in   history.Event
		want string
	}{
		{"entered", history.Event{Type: history.PassStateEntered, StateEnteredEventDetails: &history.StateEnteredEventDetails{
			Name: "A", Input: `{"a":1}`, InputDetails: history.Data(false)}},
			`"stateEnteredEventDetails":{"name":"A"}`},
		{"exited", history.Event{Type: history.PassStateExited, StateExitedEventDetails: &history.StateExitedEventDetails{
			Name: "A", Output: `1`, OutputDetails: history.Data(false), AssignedVariables: map[string]string{"x": "1"},
			AssignedVariablesDetails: &history.AssignedVariablesDetails{}}},
			`"stateExitedEventDetails":{"name":"A"}`},
		{"scheduled", history.Event{Type: history.TaskScheduled, TaskScheduledEventDetails: &history.TaskScheduledEventDetails{
			ResourceType: "lambda", Resource: "invoke", Region: "us-east-1", Parameters: `{}`}},
			`"taskScheduledEventDetails":{"resourceType":"lambda","resource":"invoke","region":"us-east-1"}`},
		{"failed keeps error", history.Event{Type: history.ExecutionFailed, ExecutionFailedEventDetails: &history.ExecutionFailedEventDetails{
			Error: history.Str("E"), Cause: history.Str("C")}},
			`"executionFailedEventDetails":{"error":"E","cause":"C"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, err := json.Marshal(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(tt.in.WithoutData())
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(got), tt.want) || strings.Count(string(got), "Details") != 1 {
				t.Fatalf("got %s, want it to contain %s", got, tt.want)
			}
			if after, _ := json.Marshal(tt.in); string(after) != string(before) {
				t.Fatalf("WithoutData changed the original: %s", after)
			}
		})
	}
}

func TestEpochSeconds(t *testing.T) {
	tests := []struct {
		ms   int64
		want string
	}{
		{1700000000123, "1700000000.123"},
		{1700000000120, "1700000000.12"},
		{1700000000100, "1700000000.1"},
		{1700000000000, "1700000000"},
		{1700000000007, "1700000000.007"},
		{0, "0"},
		{-999, "0"}, // before 1970: no fraction survives, and no panic
	}
	for _, tt := range tests {
		ts := time.UnixMilli(tt.ms)
		if got := history.EpochSeconds(ts); got != tt.want {
			t.Errorf("EpochSeconds(%d ms) = %s, want %s", tt.ms, got, tt.want)
		}
		if got := string(history.AppendEpochSeconds([]byte("x"), ts)); got != "x"+tt.want {
			t.Errorf("AppendEpochSeconds(x, %d ms) = %s, want x%s", tt.ms, got, tt.want)
		}
	}
}

func BenchmarkEpochSeconds(b *testing.B) {
	ts := time.UnixMilli(1700000000123)
	b.ReportAllocs()
	for b.Loop() {
		if history.EpochSeconds(ts) == "" {
			b.Fatal("empty")
		}
	}
}
