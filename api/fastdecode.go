package api

import (
	"unicode/utf8"

	"github.com/stepwell/stepwell/api/internal/awsapi"
)

// decodeStartInput decodes the usual StartExecution body, a JSON object
// whose members are strings named exactly as the model names them, without
// reflection: StartExecution is the API's hot path. It reports false for
// any other body (a member of another type or name, a name in another
// case, a \u escape, invalid UTF-8, malformed JSON), having set nothing
// the caller keeps; the caller then decodes it with encoding/json, which
// gives what this would have given where both apply (FuzzDecodeStartInput)
// and the errors AWS answers.
func decodeStartInput(body []byte, in *awsapi.StartExecutionInput) bool {
	var out awsapi.StartExecutionInput
	// One allocation holds the members' values.
	vals := new([4]string)
	var scratch [256]byte // the values with escapes are decoded here first
	i := skipSpace(body, 0)
	if i == len(body) || body[i] != '{' {
		return false
	}
	i = skipSpace(body, i+1)
	if i < len(body) && body[i] == '}' {
		i++
	} else {
		for {
			key, j, ok := scanString(body, i, nil)
			if !ok {
				return false
			}
			var k int
			var dst **string
			switch string(key) {
			case "stateMachineArn":
				k, dst = 0, &out.StateMachineArn
			case "name":
				k, dst = 1, &out.Name
			case "input":
				k, dst = 2, &out.Input
			case "traceHeader":
				k, dst = 3, &out.TraceHeader
			default:
				return false
			}
			i = skipSpace(body, j)
			if i == len(body) || body[i] != ':' {
				return false
			}
			i = skipSpace(body, i+1)
			v, j, ok := scanString(body, i, scratch[:0])
			if !ok {
				return false
			}
			vals[k] = string(v)
			*dst = &vals[k]
			i = skipSpace(body, j)
			if i == len(body) {
				return false
			}
			if body[i] == '}' {
				i++
				break
			}
			if body[i] != ',' {
				return false
			}
			i = skipSpace(body, i+1)
		}
	}
	if skipSpace(body, i) != len(body) {
		return false
	}
	*in = out
	return true
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace.
func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanString reads the JSON string that starts at b[i] and returns its
// value and the index after its closing quote. With buf nil it accepts no
// escape (the value is then a slice of b); otherwise the value of a string
// with escapes is built in buf. ok is false for a string it does not
// decode: malformed, a \u escape, a control character or invalid UTF-8.
func scanString(b []byte, i int, buf []byte) (v []byte, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	start := i + 1
	ascii := true
	escaped := false
	for i = start; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '"':
			if !escaped {
				v = b[start:i]
			} else {
				v = buf
			}
			if !ascii && !utf8.Valid(v) {
				return nil, 0, false
			}
			return v, i + 1, true
		case c < 0x20:
			return nil, 0, false
		case c >= 0x80:
			ascii = false
		case c == '\\':
			if buf == nil || i+1 == len(b) {
				return nil, 0, false
			}
			if !escaped {
				escaped = true
				buf = append(buf[:0], b[start:i]...)
			}
			i++
			switch e := b[i]; e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			default:
				return nil, 0, false
			}
			continue
		}
		if escaped {
			buf = append(buf, c)
		}
	}
	return nil, 0, false
}
