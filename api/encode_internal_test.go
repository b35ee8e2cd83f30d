package api

import (
	"encoding/json"
	"testing"
	"time"
)

// TestStartExecutionOutputEncoded checks that StartExecution's answer,
// encoded without reflection, is byte for byte what json.Marshal makes of
// it, for ARNs that need escaping (encoded by json.Marshal then) and
// start dates with and without milliseconds.
func TestStartExecutionOutputEncoded(t *testing.T) {
	arns := []string{
		"arn:aws:states:us-east-1:123456789012:execution:bench:e0",
		"arn:aws:states:us-east-1:123456789012:execution:m:名前",
		"arn:aws:states:us-east-1:123456789012:execution:m:a<b>&c",
		`arn:aws:states:us-east-1:123456789012:execution:m:q"\` + "\x01\x7f",
	}
	dates := []time.Time{
		time.Unix(1700000000, 0),
		time.Unix(1700000000, 120*int64(time.Millisecond)),
		time.Unix(1700000000, 999_999_999),
		time.UnixMilli(7),
	}
	for _, a := range arns {
		for _, d := range dates {
			o := startExecutionOutput{ExecutionArn: a, StartDate: epoch(d)}
			want, err := json.Marshal(o)
			if err != nil {
				t.Fatal(err)
			}
			var got []byte
			switch v := o.encoded().(type) {
			case rawJSON:
				got = v
			default:
				if got, err = json.Marshal(v); err != nil {
					t.Fatal(err)
				}
			}
			if string(got) != string(want) {
				t.Errorf("%q at %v: encoded %s, json.Marshal %s", a, d, got, want)
			}
		}
	}
	if _, ok := (startExecutionOutput{ExecutionArn: arns[0]}).encoded().(rawJSON); !ok {
		t.Error("a plain ARN is not encoded without reflection")
	}
}

// TestDateHeader: the Date header is the answer's second, in HTTP's
// format, the same for every answer of one second.
func TestDateHeader(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 16, 4, 5, 0, time.UTC)
	for _, tt := range []struct {
		at   time.Time
		want string
	}{
		{t0, "Mon, 07 Dec 2026 16:04:05 GMT"},
		{t0.Add(999 * time.Millisecond), "Mon, 07 Dec 2026 16:04:05 GMT"},
		{t0.Add(time.Second), "Mon, 07 Dec 2026 16:04:06 GMT"},
		{t0.In(time.FixedZone("X", 3600)).Add(2 * time.Second), "Mon, 07 Dec 2026 16:04:07 GMT"},
		{t0, "Mon, 07 Dec 2026 16:04:05 GMT"},
	} {
		if got := dateHeader(tt.at); len(got) != 1 || got[0] != tt.want {
			t.Errorf("dateHeader(%v) = %q, want %q", tt.at, got, tt.want)
		}
	}
}
