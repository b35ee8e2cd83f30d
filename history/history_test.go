package history_test

import (
	"encoding/json"
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
