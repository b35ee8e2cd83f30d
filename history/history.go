// Package history holds Step Functions execution history events, shaped and
// named exactly like the AWS API's HistoryEvent (the types are generated from
// the API model), plus small helpers to build them.
package history

//go:generate python3 gen.py ../../shared/spec/stepfunctions-api-model.json

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
)

// MarshalJSON encodes the event as the AWS JSON 1.0 protocol does, with the
// timestamp in epoch seconds.
func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event
	b, err := json.Marshal(plain(e))
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(b)+32)
	out = append(out, `{"timestamp":`...)
	out = AppendEpochSeconds(out, e.Timestamp)
	if len(b) > 2 {
		out = append(out, ',')
		out = append(out, b[1:]...)
	} else {
		out = append(out, '}')
	}
	return out, nil
}

// UnmarshalJSON decodes an event encoded by MarshalJSON.
func (e *Event) UnmarshalJSON(data []byte) error {
	type plain Event
	var aux struct {
		Timestamp float64 `json:"timestamp"`
		plain
	}
	if err := json.Unmarshal(data, &aux); err != nil {
		return err
	}
	*e = Event(aux.plain)
	e.Timestamp = time.UnixMilli(int64(math.Round(aux.Timestamp * 1000))).UTC()
	return nil
}

// EpochSeconds formats t as epoch seconds with millisecond precision, the
// form the AWS JSON protocol uses for timestamps.
func EpochSeconds(t time.Time) string {
	var buf [32]byte
	return string(AppendEpochSeconds(buf[:0], t))
}

// AppendEpochSeconds appends EpochSeconds(t) to dst.
func AppendEpochSeconds(dst []byte, t time.Time) []byte {
	ms := t.UnixMilli()
	dst = strconv.AppendInt(dst, ms/1000, 10)
	if frac := ms % 1000; frac != 0 {
		var buf [8]byte
		f := strconv.AppendInt(buf[:0], 1000+frac, 10)[1:]
		for len(f) > 0 && f[len(f)-1] == '0' {
			f = f[:len(f)-1]
		}
		if len(f) > 0 {
			dst = append(dst, '.')
			dst = append(dst, f...)
		}
	}
	return dst
}

// Str returns a pointer to s, for the optional error and cause fields.
func Str(s string) *string { return &s }

// Int returns a pointer to n, for optional integer fields.
func Int(n int64) *int64 { return &n }

// Data returns the execution-data details that accompany an input or output.
// The two possible values are shared by every event (one allocation fewer
// per event recorded or read): never modify what it returns.
func Data(truncated bool) *HistoryEventExecutionDataDetails {
	if truncated {
		return &dataTruncated
	}
	return &dataComplete
}

var (
	dataComplete  = HistoryEventExecutionDataDetails{}
	dataTruncated = HistoryEventExecutionDataDetails{Truncated: true}
)
