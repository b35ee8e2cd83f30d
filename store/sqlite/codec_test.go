package sqlite

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stepwell/stepwell/history"
)

func codecEvents() []history.Event {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	return []history.Event{
		{ID: 7, PreviousEventID: 6, Type: history.PassStateEntered, Timestamp: ts, Thread: "b1",
			StateEnteredEventDetails: &history.StateEnteredEventDetails{Name: "A", Input: `{"a":1}`, InputDetails: history.Data(false)}},
		{ID: 8, PreviousEventID: 7, Type: history.PassStateExited, Timestamp: ts.Add(time.Nanosecond), Thread: "b1",
			StateExitedEventDetails: &history.StateExitedEventDetails{Name: "A", Output: `{"a":2}`, OutputDetails: history.Data(true)}},
		{ID: 9, PreviousEventID: 8, Type: history.PassStateExited, Timestamp: ts,
			StateExitedEventDetails: &history.StateExitedEventDetails{Name: "B", Output: "{}", AssignedVariables: map[string]string{"v": "1"}}},
		{ID: 10, PreviousEventID: 3, Type: "NewKindStateEntered", Timestamp: ts.Add(-time.Hour),
			StateEnteredEventDetails: &history.StateEnteredEventDetails{Name: "T"}},
		{ID: 11, PreviousEventID: 10, Type: history.TaskFailed, Timestamp: ts, Thread: "m0/m3",
			TaskFailedEventDetails: &history.TaskFailedEventDetails{Error: history.Str("E"), Cause: history.Str("C")}},
		{ID: 12, PreviousEventID: 11, Type: history.PassStateEntered, Timestamp: ts,
			StateEnteredEventDetails: &history.StateEnteredEventDetails{Name: "X"}, TaskFailedEventDetails: &history.TaskFailedEventDetails{}},
	}
}

func text(e history.Event) string {
	b, _ := json.Marshal(plainEvent(e))
	return e.Timestamp.UTC().Format(time.RFC3339Nano) + "|" + e.Thread + "|" + string(b)
}

func TestCodec_RoundTrip(t *testing.T) {
	evs := codecEvents()
	forms := []int{formEntered, formExited, formJSON, formEntered, formJSON, formJSON}
	for i := range evs {
		if f := form(&evs[i]); f != forms[i] {
			t.Errorf("event %d: form %d, want %d", evs[i].ID, f, forms[i])
		}
	}
	top := codecEvents()
	for i := range top {
		top[i].Thread = ""
	}
	comma := codecEvents()
	comma[2].Thread = "odd,thread"
	// Rows written before version 4 still decode.
	older := func(version byte) func(evs []history.Event) ([]byte, string, error) {
		return func(evs []history.Event) ([]byte, string, error) {
			threads, _ := threadsColumn(evs)
			row, err := encodeRow(nil, evs, version)
			return row, threads, err
		}
	}
	for _, tt := range []struct {
		name    string
		evs     []history.Event
		encode  func([]history.Event) ([]byte, string, error)
		version byte
		threads string
	}{
		{"threads", evs, nil, codecVersion, "b1,b1,,,m0/m3,"},
		{"top level", top, nil, codecVersion, ""},
		{"comma in a thread", comma, nil, codecV1, ""},
		{"version 2", evs, older(codecV2), codecV2, "b1,b1,,,m0/m3,"},
		{"version 3", evs, older(codecV3), codecV3, "b1,b1,,,m0/m3,"},
	} {
		encode := tt.encode
		if encode == nil {
			encode = func(evs []history.Event) ([]byte, string, error) { return encodeEvents(nil, evs) }
		}
		row, threads, err := encode(tt.evs)
		if err != nil {
			t.Fatal(err)
		}
		if row[0] != tt.version || threads != tt.threads {
			t.Fatalf("%s: version %d, threads %q; want %d, %q", tt.name, row[0], threads, tt.version, tt.threads)
		}
		for lo := int64(7); lo <= 12; lo++ {
			for hi := lo; hi <= 13; hi++ {
				got, err := decodeEvents(nil, row, threads, 7, lo, hi)
				if err != nil {
					t.Fatal(err)
				}
				want := tt.evs[lo-7 : min(hi, 12)-6]
				if len(got) != len(want) {
					t.Fatalf("%s [%d,%d]: %d events, want %d", tt.name, lo, hi, len(got), len(want))
				}
				for i := range got {
					if text(got[i]) != text(want[i]) {
						t.Fatalf("%s [%d,%d] event %d:\n%s\nwant\n%s", tt.name, lo, hi, i, text(got[i]), text(want[i]))
					}
				}
			}
		}
		if _, err := decodeEvents(nil, row, threads, 8, 8, 20); err == nil {
			t.Fatalf("%s: decoding with the wrong first id succeeded", tt.name)
		}
	}
	row, _, _ := encodeEvents(nil, evs)
	if _, err := decodeEvents(nil, row, "b1,b1", 7, 7, 12); err == nil {
		t.Fatal("decoding with too few threads succeeded")
	}
}

// TestCodec_ExecutionForms round-trips the compact forms of
// ExecutionStarted and ExecutionSucceeded, and checks that such events
// with anything more, or another type, keep the JSON form.
func TestCodec_ExecutionForms(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	started := &history.ExecutionStartedEventDetails{Input: `{"a":"\u00e9"}`, InputDetails: history.Data(true),
		RoleArn: "arn:aws:iam::1:role/r", StateMachineAliasArn: "arn:a", StateMachineVersionArn: "arn:v"}
	succeeded := &history.ExecutionSucceededEventDetails{Output: "{}"}
	evs := []history.Event{
		{ID: 1, Type: history.ExecutionStarted, Timestamp: ts, ExecutionStartedEventDetails: started},
		{ID: 2, PreviousEventID: 1, Type: history.ExecutionStarted, Timestamp: ts, ExecutionStartedEventDetails: &history.ExecutionStartedEventDetails{}},
		{ID: 3, PreviousEventID: 2, Type: history.ExecutionSucceeded, Timestamp: ts, ExecutionSucceededEventDetails: succeeded},
		{ID: 4, PreviousEventID: 3, Type: history.ExecutionSucceeded, Timestamp: ts, Thread: "b0",
			ExecutionSucceededEventDetails: &history.ExecutionSucceededEventDetails{Output: "1", OutputDetails: history.Data(false)}},
		{ID: 5, PreviousEventID: 4, Type: history.ExecutionRedriven, Timestamp: ts, ExecutionStartedEventDetails: started},
		{ID: 6, PreviousEventID: 5, Type: history.ExecutionSucceeded, Timestamp: ts, ExecutionSucceededEventDetails: succeeded,
			TaskFailedEventDetails: &history.TaskFailedEventDetails{}},
	}
	forms := []int{formStarted, formStarted, formSucceeded, formSucceeded, formJSON, formJSON}
	for i := range evs {
		if f := form(&evs[i]); f != forms[i] {
			t.Errorf("event %d: form %d, want %d", evs[i].ID, f, forms[i])
		}
	}
	row, threads, err := encodeEvents(nil, evs)
	if err != nil {
		t.Fatal(err)
	}
	for lo := int64(1); lo <= 6; lo++ {
		got, err := decodeEvents(nil, row, threads, 1, lo, 6)
		if err != nil {
			t.Fatal(err)
		}
		want := evs[lo-1:]
		if len(got) != len(want) {
			t.Fatalf("from %d: %d events, want %d", lo, len(got), len(want))
		}
		for i := range got {
			if text(got[i]) != text(want[i]) {
				t.Errorf("from %d, event %d:\n%s\nwant\n%s", lo, i, text(got[i]), text(want[i]))
			}
		}
	}
	// Every truncation of the row is an error or a prefix of the events.
	for n := 1; n < len(row); n++ {
		got, err := decodeEvents(nil, row[:n], threads, 1, 1, 6)
		if err != nil {
			continue
		}
		for i := range got {
			if text(got[i]) != text(evs[i]) {
				t.Fatalf("row cut at %d, event %d:\n%s\nwant\n%s", n, i, text(got[i]), text(evs[i]))
			}
		}
	}
}

// formatEvents are the events of TestCodec_Formats.
func formatEvents() []history.Event {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	return []history.Event{
		{ID: 1, Type: history.ExecutionStarted, Timestamp: ts,
			ExecutionStartedEventDetails: &history.ExecutionStartedEventDetails{Input: `{"a":1}`, InputDetails: history.Data(false), RoleArn: "arn:aws:iam::123456789012:role/r"}},
		{ID: 2, PreviousEventID: 1, Type: history.PassStateEntered, Timestamp: ts.Add(time.Millisecond), Thread: "b1",
			StateEnteredEventDetails: &history.StateEnteredEventDetails{Name: "A", Input: `{"a":1}`, InputDetails: history.Data(false)}},
		{ID: 3, PreviousEventID: 2, Type: history.PassStateExited, Timestamp: ts.Add(2 * time.Millisecond),
			StateExitedEventDetails: &history.StateExitedEventDetails{Name: "A", Output: `{"a":2}`, OutputDetails: history.Data(true)}},
		{ID: 4, PreviousEventID: 3, Type: history.ExecutionSucceeded, Timestamp: ts.Add(3 * time.Millisecond),
			ExecutionSucceededEventDetails: &history.ExecutionSucceededEventDetails{Output: `{"a":2}`, OutputDetails: history.Data(false)}},
	}
}

// TestCodec_Formats pins the stored format: rows the version 2 encoder
// wrote (before forms 3 and 4) and the version 3 one (before data
// references) decode, and today's encoding of the same events is exactly
// the version 4 row below (type codes and the layout are stored: changing
// them needs a new version).
func TestCodec_Formats(t *testing.T) {
	const (
		v2Row = "02aafc8fbfc4bce5863100bb017b2274797065223a22457865637574696f6e53746172746564222c226964223a312c2270726576696f75734576656e744964223a302c22657865637574696f6e537461727465644576656e7444657461696c73223a7b22696e707574223a227b5c22615c223a317d222c22696e70757444657461696c73223a7b227472756e6361746564223a66616c73657d2c22726f6c6541726e223a2261726e3a6177733a69616d3a3a3132333435363738393031323a726f6c652f72227d7daa858ac0c4bce586310110506173735374617465456e7465726564020141077b2261223a317d01aa8e84c1c4bce58631020f506173735374617465457869746564040141077b2261223a327d02aa97fec1c4bce586310094017b2274797065223a22457865637574696f6e537563636565646564222c226964223a342c2270726576696f75734576656e744964223a332c22657865637574696f6e5375636365656465644576656e7444657461696c73223a7b226f7574707574223a227b5c22615c223a327d222c226f757470757444657461696c73223a7b227472756e6361746564223a66616c73657d7d7d"
		v3Row = "03aafc8fbfc4bce586310302077b2261223a317d012061726e3a6177733a69616d3a3a3132333435363738393031323a726f6c652f72000080897a0101020141077b2261223a317d0180897a0202020141077b2261223a327d0280897a0402077b2261223a327d01"
		// Event 2's input and event 4's output are the data before
		// them: 00.
		v4Row = "04aafc8fbfc4bce586310302087b2261223a317d012061726e3a6177733a69616d3a3a3132333435363738393031323a726f6c652f72000080897a0101020141000180897a0202020141087b2261223a327d0280897a04020001"
	)
	want := formatEvents()
	for _, tt := range []struct{ name, row string }{{"version 2", v2Row}, {"version 3", v3Row}, {"version 4", v4Row}} {
		row, err := hex.DecodeString(tt.row)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeEvents(nil, row, ",b1,,", 1, 1, 4)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d events, want %d", tt.name, len(got), len(want))
		}
		for i := range got {
			if text(got[i]) != text(want[i]) {
				t.Errorf("%s, event %d:\n%s\nwant\n%s", tt.name, i, text(got[i]), text(want[i]))
			}
		}
	}
	row, threads, err := encodeEvents(nil, want)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(row); got != v4Row || threads != ",b1,," {
		t.Errorf("encoding = %s, threads %q; want %s, %q", got, threads, v4Row, ",b1,,")
	}
	// A reference to the previous data in a row without any is corrupt.
	bad, _ := hex.DecodeString("04aafc8fbfc4bce586310302000100000000")
	if _, err := decodeEvents(nil, bad, "", 1, 1, 1); err == nil {
		t.Error("a reference to no previous data decoded")
	}
}

func FuzzDecodeEvents(f *testing.F) {
	row, threads, err := encodeEvents(nil, codecEvents())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(row, threads, int64(7), int64(7), int64(12))
	for _, r := range passRows() {
		row, threads, err := encodeEvents(nil, r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(row, threads, r[0].ID, r[0].ID, r[len(r)-1].ID)
	}
	f.Add([]byte{1, 0}, "", int64(1), int64(1), int64(1))
	f.Add([]byte{2, 0, 0}, ",", int64(1), int64(1), int64(1))
	f.Add([]byte{}, "", int64(1), int64(1), int64(1))
	f.Fuzz(func(t *testing.T, row []byte, threads string, first, lo, hi int64) {
		if hi-lo > 1000 {
			hi = lo + 1000
		}
		evs, err := decodeEvents(nil, row, threads, first, lo, hi)
		if err != nil || len(evs) == 0 {
			return
		}
		// What decodes encodes again to the same events.
		again, threads2, err := encodeEvents(nil, evs)
		if err != nil {
			t.Fatal(err)
		}
		evs2, err := decodeEvents(nil, again, threads2, evs[0].ID, evs[0].ID, evs[len(evs)-1].ID)
		if err != nil {
			t.Fatal(err)
		}
		for i := range evs {
			if text(evs[i]) != text(evs2[i]) {
				t.Fatalf("re-encoding changed event %d", i)
			}
		}
	})
}

// passRows are the rows a 10-state Pass chain writes: ExecutionStarted,
// then one per state (Entered, Exited), the last with ExecutionSucceeded.
func passRows() [][]history.Event {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	in := `{"hello":"world","n":1}`
	rows := [][]history.Event{{{ID: 1, Type: history.ExecutionStarted, Timestamp: ts,
		ExecutionStartedEventDetails: &history.ExecutionStartedEventDetails{Input: in, InputDetails: history.Data(false),
			RoleArn: "arn:aws:iam::123456789012:role/perf"}}}}
	id := int64(2)
	for i := range 10 {
		name := fmt.Sprint("S", i)
		row := []history.Event{
			{ID: id, PreviousEventID: id - 1, Type: history.PassStateEntered, Timestamp: ts,
				StateEnteredEventDetails: &history.StateEnteredEventDetails{Name: name, Input: in, InputDetails: history.Data(false)}},
			{ID: id + 1, PreviousEventID: id, Type: history.PassStateExited, Timestamp: ts,
				StateExitedEventDetails: &history.StateExitedEventDetails{Name: name, Output: in, OutputDetails: history.Data(false)}},
		}
		id += 2
		if i == 9 {
			row = append(row, history.Event{ID: id, PreviousEventID: id - 1, Type: history.ExecutionSucceeded, Timestamp: ts,
				ExecutionSucceededEventDetails: &history.ExecutionSucceededEventDetails{Output: in, OutputDetails: history.Data(false)}})
		}
		rows = append(rows, row)
	}
	return rows
}

// BenchmarkEncodeEvents encodes the rows of one execution of a 10-state
// Pass chain; it reports their size.
func BenchmarkEncodeEvents(b *testing.B) {
	rows := passRows()
	b.ReportAllocs()
	size := 0
	for b.Loop() {
		size = 0
		for _, r := range rows {
			blob, _, err := encodeEvents(make([]byte, 0, 256*len(r)), r)
			if err != nil {
				b.Fatal(err)
			}
			size += len(blob)
		}
	}
	b.ReportMetric(float64(size), "bytes/exec")
}

// BenchmarkDecodeEvents decodes them, as GetExecutionHistory and resuming
// do.
func BenchmarkDecodeEvents(b *testing.B) {
	var blobs [][]byte
	for _, r := range passRows() {
		blob, _, err := encodeEvents(nil, r)
		if err != nil {
			b.Fatal(err)
		}
		blobs = append(blobs, blob)
	}
	b.ReportAllocs()
	out := make([]history.Event, 0, 32)
	for b.Loop() {
		out = out[:0]
		first := int64(1)
		for _, blob := range blobs {
			n := len(out)
			var err error
			if out, err = decodeEvents(out, blob, "", first, 1, 1<<62); err != nil {
				b.Fatal(err)
			}
			first += int64(len(out) - n)
		}
	}
}

// TestTypeCode: typeCode gives each type of typeCodes its code, and
// every other type (each the model names) 0.
func TestTypeCode(t *testing.T) {
	coded := map[history.EventType]bool{}
	for c, typ := range typeCodes {
		if typ == "" {
			continue
		}
		coded[typ] = true
		if got := typeCode(typ); got != uint64(c) {
			t.Errorf("typeCode(%s) = %d, want %d", typ, got, c)
		}
	}
	for _, typ := range history.EventTypes() {
		if !coded[typ] {
			if got := typeCode(typ); got != 0 {
				t.Errorf("typeCode(%s) = %d, want 0", typ, got)
			}
		}
	}
}

// TestForm: an event takes a compact form only when its details are the
// form's alone; with any other details member set too it is JSON.
func TestForm(t *testing.T) {
	entered := &history.StateEnteredEventDetails{Name: "A"}
	for _, tt := range []struct {
		name string
		e    history.Event
		want int
	}{
		{"entered", history.Event{Type: history.PassStateEntered, ID: 2, Thread: "b0", StateEnteredEventDetails: entered}, formEntered},
		{"entered with more", history.Event{Type: history.PassStateEntered, StateEnteredEventDetails: entered,
			TaskFailedEventDetails: &history.TaskFailedEventDetails{}}, formJSON},
		{"exited", history.Event{Type: history.PassStateExited, StateExitedEventDetails: &history.StateExitedEventDetails{Name: "A"}}, formExited},
		{"exited with variables", history.Event{Type: history.PassStateExited, StateExitedEventDetails: &history.StateExitedEventDetails{
			Name: "A", AssignedVariables: map[string]string{"x": "1"}}}, formJSON},
		{"started", history.Event{Type: history.ExecutionStarted, ExecutionStartedEventDetails: &history.ExecutionStartedEventDetails{}}, formStarted},
		{"started, another type", history.Event{Type: history.MapRunStarted, ExecutionStartedEventDetails: &history.ExecutionStartedEventDetails{}}, formJSON},
		{"succeeded", history.Event{Type: history.ExecutionSucceeded, ExecutionSucceededEventDetails: &history.ExecutionSucceededEventDetails{}}, formSucceeded},
		{"no details", history.Event{Type: history.MapStateStarted}, formJSON},
		{"other details", history.Event{Type: history.TaskFailed, TaskFailedEventDetails: &history.TaskFailedEventDetails{}}, formJSON},
	} {
		if got := form(&tt.e); got != tt.want {
			t.Errorf("%s: form %d, want %d", tt.name, got, tt.want)
		}
	}
}
