package sqlite

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stepwell/stepwell/history"
)

// A history row holds the consecutive events of one AppendHistory call,
// their threads in the threads column (see threadsColumn) and the rest in
// the events blob:
//
//	row    = version(1 byte: 1 to 4) event*
//	event  = varint(time) uvarint(form) body
//	body   = str(json)                                           form 0
//	       | type prev str(name) data flag                        forms 1, 2
//	       | prev data flag str(role) str(alias) str(version)     form 3
//	       | prev data flag                                      form 4
//	data   = str(input or output)                                versions 1 to 3
//	       | uvarint(0)            (the row's previous data again)  version 4
//	       | uvarint(len+1) bytes                                version 4
//	str    = uvarint(len) bytes
//	flag   = 0 (no data details) | 1 (truncated false) | 2 (truncated true)
//
// Version 4 rows (written since) are version 3 rows whose input or output
// is stored once when it is the same as the previous event's of the row
// (as an event's input is the previous one's output along a chain of
// states): half the bytes of a Pass chain's history, whatever the size of
// its data.
//
// In version 3 and 4 rows, time is the Unix time in nanoseconds
// of the row's first event and, for the others, the difference from the
// previous event's; type is uvarint(code) of the event type (typeCodes),
// followed by str(type) when the code is 0; prev is varint(id − previous
// event id), 1 for most events. Version 2 rows have the Unix time of
// every event, str(type) and varint(previous id) instead, costing about
// 30 more bytes per event.
//
// Form 0 is the event's JSON without timestamp and thread (plainEvent),
// carrying its type, ids and details; forms 1 to 4 are compact encodings
// of the commonest events, those whose only details are a plain
// StateEnteredEventDetails (1) or StateExitedEventDetails (2), and every
// execution's ExecutionStarted (3) and ExecutionSucceeded (4): they spare
// the JSON encoder on every step and the decoder when an execution's
// history is read (GetExecutionHistory, resuming after a restart). An
// event's id is implied by its position: ids in a row are consecutive.
//
// Version 1 rows (schema version 3 and before, and rows whose threads the
// column cannot hold) are version 2 rows that carry each event's thread in
// the blob, as str(thread) right after the time. A binary older than
// version 3 rows and forms 3 and 4 reports such rows as corrupt.
const (
	codecV1      = 1
	codecV2      = 2
	codecV3      = 3
	codecVersion = 4
)

// typeCodes are the event types of forms 1 and 2 by their code in version
// 3 rows. Codes are stored: append new types, never reorder.
var typeCodes = [...]history.EventType{
	1: history.PassStateEntered, 2: history.PassStateExited,
	3: history.TaskStateEntered, 4: history.TaskStateExited,
	5: history.ChoiceStateEntered, 6: history.ChoiceStateExited,
	7: history.WaitStateEntered, 8: history.WaitStateExited,
	9: history.SucceedStateEntered, 10: history.SucceedStateExited,
	11: history.FailStateEntered,
	12: history.ParallelStateEntered, 13: history.ParallelStateExited,
	14: history.MapStateEntered, 15: history.MapStateExited,
}

// typeCode returns the code of an event type in typeCodes, 0 when it has
// none (a switch: a map's hash of the type was ~3 % of a short
// execution's start; TestTypeCode checks it against typeCodes).
func typeCode(t history.EventType) uint64 {
	switch t {
	case history.PassStateEntered:
		return 1
	case history.PassStateExited:
		return 2
	case history.TaskStateEntered:
		return 3
	case history.TaskStateExited:
		return 4
	case history.ChoiceStateEntered:
		return 5
	case history.ChoiceStateExited:
		return 6
	case history.WaitStateEntered:
		return 7
	case history.WaitStateExited:
		return 8
	case history.SucceedStateEntered:
		return 9
	case history.SucceedStateExited:
		return 10
	case history.FailStateEntered:
		return 11
	case history.ParallelStateEntered:
		return 12
	case history.ParallelStateExited:
		return 13
	case history.MapStateEntered:
		return 14
	case history.MapStateExited:
		return 15
	}
	return 0
}

// threadSep separates the threads in the threads column.
const threadSep = ","

const (
	formJSON = iota
	formEntered
	formExited
	formStarted
	formSucceeded
)

// plainEvent is history.Event without its MarshalJSON: the timestamp and
// thread are encoded beside the JSON.
type plainEvent history.Event

var errCorrupt = errors.New("corrupt history row")

// form tells how e is encoded: a compact form when its only details are
// those the form holds.
func form(e *history.Event) int {
	if e.DetailsSet() != 1 {
		return formJSON
	}
	switch {
	case e.StateEnteredEventDetails != nil:
		return formEntered
	case e.StateExitedEventDetails != nil:
		if d := e.StateExitedEventDetails; d.AssignedVariables == nil && d.AssignedVariablesDetails == nil {
			return formExited
		}
	case e.ExecutionStartedEventDetails != nil && e.Type == history.ExecutionStarted:
		return formStarted
	case e.ExecutionSucceededEventDetails != nil && e.Type == history.ExecutionSucceeded:
		return formSucceeded
	}
	return formJSON
}

func appendStr(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

func appendBytes(buf, b []byte) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(b)))
	return append(buf, b...)
}

func flagOf(d *history.HistoryEventExecutionDataDetails) byte {
	switch {
	case d == nil:
		return 0
	case d.Truncated:
		return 2
	}
	return 1
}

func detailsOf(flag byte) (*history.HistoryEventExecutionDataDetails, bool) {
	switch flag {
	case 0:
		return nil, true
	case 1:
		return history.Data(false), true
	case 2:
		return history.Data(true), true
	}
	return nil, false
}

// threadsColumn returns the threads column of a row holding events: ""
// when all are top-level, else their threads joined with threadSep. ok is
// false if a thread contains threadSep (the row is then encoded with
// codecV1).
func threadsColumn(events []history.Event) (col string, ok bool) {
	top := true
	for i := range events {
		if strings.Contains(events[i].Thread, threadSep) {
			return "", false
		}
		if events[i].Thread != "" {
			top = false
		}
	}
	if top {
		return "", true
	}
	var b strings.Builder
	for i := range events {
		if i > 0 {
			b.WriteString(threadSep)
		}
		b.WriteString(events[i].Thread)
	}
	return b.String(), true
}

// encodeEvents appends the encoding of events to buf and returns it with
// the row's threads column.
func encodeEvents(buf []byte, events []history.Event) ([]byte, string, error) {
	threads, ok := threadsColumn(events)
	if !ok {
		buf, err := encodeRow(buf, events, codecV1)
		return buf, "", err
	}
	buf, err := encodeRow(buf, events, codecVersion)
	return buf, threads, err
}

// encodeRow appends a row of the given version holding events to buf.
func encodeRow(buf []byte, events []history.Event, version byte) ([]byte, error) {
	v3 := version >= codecV3
	v4 := version >= codecVersion
	buf = append(buf, version)
	var last int64   // the previous event's time
	var data dataRef // the previous data
	for i := range events {
		e := &events[i]
		ts := e.Timestamp.UnixNano()
		if v3 && i > 0 {
			buf = binary.AppendVarint(buf, ts-last) // wraps, and unwraps when decoded
		} else {
			buf = binary.AppendVarint(buf, ts)
		}
		last = ts
		if version == codecV1 {
			buf = appendStr(buf, e.Thread)
		}
		prev := e.PreviousEventID
		if v3 {
			prev = e.ID - e.PreviousEventID
		}
		f := form(e)
		buf = binary.AppendUvarint(buf, uint64(f))
		switch f {
		case formEntered, formExited:
			if v3 {
				code := typeCode(e.Type)
				buf = binary.AppendUvarint(buf, code)
				if code == 0 {
					buf = appendStr(buf, string(e.Type))
				}
			} else {
				buf = appendStr(buf, string(e.Type))
			}
			buf = binary.AppendVarint(buf, prev)
			if f == formEntered {
				d := e.StateEnteredEventDetails
				buf = appendStr(buf, d.Name)
				buf = data.append(buf, d.Input, v4)
				buf = append(buf, flagOf(d.InputDetails))
			} else {
				d := e.StateExitedEventDetails
				buf = appendStr(buf, d.Name)
				buf = data.append(buf, d.Output, v4)
				buf = append(buf, flagOf(d.OutputDetails))
			}
		case formStarted:
			d := e.ExecutionStartedEventDetails
			buf = binary.AppendVarint(buf, prev)
			buf = data.append(buf, d.Input, v4)
			buf = append(buf, flagOf(d.InputDetails))
			buf = appendStr(buf, d.RoleArn)
			buf = appendStr(buf, d.StateMachineAliasArn)
			buf = appendStr(buf, d.StateMachineVersionArn)
		case formSucceeded:
			d := e.ExecutionSucceededEventDetails
			buf = binary.AppendVarint(buf, prev)
			buf = data.append(buf, d.Output, v4)
			buf = append(buf, flagOf(d.OutputDetails))
		default:
			b, err := json.Marshal((*plainEvent)(e))
			if err != nil {
				return nil, fmt.Errorf("encode event %d: %w", e.ID, err)
			}
			buf = appendBytes(buf, b)
		}
	}
	return buf, nil
}

// dataRef is the previous data (input or output) of a row being encoded
// or decoded.
type dataRef struct {
	s  string
	ok bool // a previous data exists
}

// append appends s as a data field: in a version 4 row (v4), a reference
// to the previous data when s is the same.
func (r *dataRef) append(buf []byte, s string, v4 bool) []byte {
	if !v4 {
		return appendStr(buf, s)
	}
	if r.ok && r.s == s {
		return append(buf, 0)
	}
	r.s, r.ok = s, true
	buf = binary.AppendUvarint(buf, uint64(len(s))+1)
	return append(buf, s...)
}

// data reads a data field (see dataRef.append).
func (d *decoder) data(r *dataRef, v4 bool) string {
	if !v4 {
		return d.str()
	}
	n, k := binary.Uvarint(d.b[d.i:])
	if k <= 0 || (n == 0 && !r.ok) || (n > 0 && n-1 > uint64(len(d.b)-d.i-k)) {
		d.ok = false
		return ""
	}
	d.i += k
	if n == 0 {
		return r.s
	}
	start := d.i
	d.i = start + int(n-1)
	r.s, r.ok = d.s[start:d.i], true
	return r.s
}

// decoder reads a row: b is the row, s the same bytes as one string that
// the decoded strings are cut from (one allocation per row, not one per
// string), and i the read position.
type decoder struct {
	b  []byte
	s  string
	i  int
	ok bool
}

func (d *decoder) more() bool { return d.i < len(d.b) }

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b[d.i:])
	if n <= 0 {
		d.ok = false
		return 0
	}
	d.i += n
	return v
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b[d.i:])
	if n <= 0 {
		d.ok = false
		return 0
	}
	d.i += n
	return v
}

// prev reads the previous event id of event id: stored as the difference
// in version 3 rows.
func (d *decoder) prev(id int64, v3 bool) int64 {
	p := d.varint()
	if v3 {
		return id - p
	}
	return p
}

// str reads a length-prefixed string.
func (d *decoder) str() string {
	n, k := binary.Uvarint(d.b[d.i:])
	if k <= 0 || n > uint64(len(d.b)-d.i-k) {
		d.ok = false
		return ""
	}
	start := d.i + k
	d.i = start + int(n)
	return d.s[start:d.i]
}

// bytes reads a length-prefixed string without copying it.
func (d *decoder) bytes() []byte {
	n, k := binary.Uvarint(d.b[d.i:])
	if k <= 0 || n > uint64(len(d.b)-d.i-k) {
		d.ok = false
		return nil
	}
	start := d.i + k
	d.i = start + int(n)
	return d.b[start:d.i]
}

func (d *decoder) byte() byte {
	if d.i >= len(d.b) {
		d.ok = false
		return 0
	}
	c := d.b[d.i]
	d.i++
	return c
}

// decodeEvents decodes a row (events blob and threads column) whose first
// event has id first and appends the events with ids in [lo, hi] to out.
func decodeEvents(out []history.Event, row []byte, threads string, first, lo, hi int64) ([]history.Event, error) {
	if len(row) == 0 || row[0] < codecV1 || row[0] > codecVersion {
		return out, errCorrupt
	}
	v1, v3, v4 := row[0] == codecV1, row[0] >= codecV3, row[0] >= codecVersion
	var data dataRef // the previous data
	var col []string
	if !v1 && threads != "" {
		col = strings.Split(threads, threadSep)
	}
	d := decoder{b: row, s: string(row), i: 1, ok: true}
	var ts int64
	for id, i := first, 0; d.more() && id <= hi; id, i = id+1, i+1 {
		var e history.Event
		if v3 && i > 0 {
			ts += d.varint()
		} else {
			ts = d.varint()
		}
		var thread string
		switch {
		case v1:
			thread = d.str()
		case col != nil:
			if i >= len(col) {
				return out, fmt.Errorf("%w: %d threads for more events", errCorrupt, len(col))
			}
			thread = col[i]
		}
		switch f := d.byte(); f {
		case formEntered, formExited:
			if v3 {
				code := d.uvarint()
				switch {
				case code == 0:
					e.Type = history.EventType(d.str())
				case code < uint64(len(typeCodes)):
					e.Type = typeCodes[code]
				default:
					return out, fmt.Errorf("%w: event type code %d", errCorrupt, code)
				}
			} else {
				e.Type = history.EventType(d.str())
			}
			e.PreviousEventID = d.prev(id, v3)
			name := d.str()
			text := d.data(&data, v4)
			dd, ok := detailsOf(d.byte())
			if !ok || !d.ok {
				return out, errCorrupt
			}
			if id < lo {
				continue
			}
			if f == formEntered {
				e.StateEnteredEventDetails = &history.StateEnteredEventDetails{Name: name, Input: text, InputDetails: dd}
			} else {
				e.StateExitedEventDetails = &history.StateExitedEventDetails{Name: name, Output: text, OutputDetails: dd}
			}
			e.ID = id
		case formStarted:
			e.Type = history.ExecutionStarted
			e.PreviousEventID = d.prev(id, v3)
			input := d.data(&data, v4)
			dd, ok := detailsOf(d.byte())
			if !ok {
				return out, errCorrupt
			}
			role, alias, version := d.str(), d.str(), d.str()
			if !d.ok {
				return out, errCorrupt
			}
			if id < lo {
				continue
			}
			e.ExecutionStartedEventDetails = &history.ExecutionStartedEventDetails{Input: input, InputDetails: dd,
				RoleArn: role, StateMachineAliasArn: alias, StateMachineVersionArn: version}
			e.ID = id
		case formSucceeded:
			e.Type = history.ExecutionSucceeded
			e.PreviousEventID = d.prev(id, v3)
			output := d.data(&data, v4)
			dd, ok := detailsOf(d.byte())
			if !ok || !d.ok {
				return out, errCorrupt
			}
			if id < lo {
				continue
			}
			e.ExecutionSucceededEventDetails = &history.ExecutionSucceededEventDetails{Output: output, OutputDetails: dd}
			e.ID = id
		case formJSON:
			body := d.bytes()
			if !d.ok {
				return out, errCorrupt
			}
			if id < lo {
				continue
			}
			if err := json.Unmarshal(body, (*plainEvent)(&e)); err != nil {
				return out, fmt.Errorf("%w: %v", errCorrupt, err)
			}
			if e.ID != id {
				return out, fmt.Errorf("%w: event id %d at position of %d", errCorrupt, e.ID, id)
			}
		default:
			return out, fmt.Errorf("%w: event form %d", errCorrupt, f)
		}
		if !d.ok {
			return out, errCorrupt
		}
		e.Timestamp = time.Unix(0, ts).UTC()
		e.Thread = thread
		out = append(out, e)
	}
	return out, nil
}
