package sqlite

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/stepwell/stepwell/history"
)

// A history row holds the consecutive events of one AppendHistory call:
//
//	row   = version(1 byte, 1) event*
//	event = varint(timestamp, Unix ns) uvarint(len) thread uvarint(len) json
//
// json is the event without its timestamp and thread (plainEvent), which
// carries its type, ids and details.
const codecVersion = 1

// plainEvent is history.Event without its MarshalJSON: the timestamp and
// thread are encoded beside the JSON.
type plainEvent history.Event

var errCorrupt = errors.New("corrupt history row")

// encodeEvents appends the encoding of events to buf.
func encodeEvents(buf []byte, events []history.Event) ([]byte, error) {
	buf = append(buf, codecVersion)
	for i := range events {
		e := &events[i]
		b, err := json.Marshal((*plainEvent)(e))
		if err != nil {
			return nil, fmt.Errorf("encode event %d: %w", e.ID, err)
		}
		buf = binary.AppendVarint(buf, e.Timestamp.UnixNano())
		buf = binary.AppendUvarint(buf, uint64(len(e.Thread)))
		buf = append(buf, e.Thread...)
		buf = binary.AppendUvarint(buf, uint64(len(b)))
		buf = append(buf, b...)
	}
	return buf, nil
}

// decodeEvents decodes a row whose first event has id first and appends
// the events with ids in [lo, hi] to out.
func decodeEvents(out []history.Event, row []byte, first, lo, hi int64) ([]history.Event, error) {
	if len(row) == 0 || row[0] != codecVersion {
		return out, errCorrupt
	}
	row = row[1:]
	for id := first; len(row) > 0 && id <= hi; id++ {
		ts, n := binary.Varint(row)
		if n <= 0 {
			return out, errCorrupt
		}
		row = row[n:]
		thread, rest, ok := chunk(row)
		if !ok {
			return out, errCorrupt
		}
		body, rest, ok := chunk(rest)
		if !ok {
			return out, errCorrupt
		}
		row = rest
		if id < lo {
			continue
		}
		var e history.Event
		if err := json.Unmarshal(body, (*plainEvent)(&e)); err != nil {
			return out, fmt.Errorf("%w: %v", errCorrupt, err)
		}
		if e.ID != id {
			return out, fmt.Errorf("%w: event id %d at position of %d", errCorrupt, e.ID, id)
		}
		e.Timestamp = time.Unix(0, ts).UTC()
		e.Thread = string(thread)
		out = append(out, e)
	}
	return out, nil
}

// chunk splits a uvarint-length-prefixed byte string off b.
func chunk(b []byte) (s, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, false
	}
	return b[k : k+int(n)], b[k+int(n):], true
}
