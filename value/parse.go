package value

import (
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// MaxDepth is the deepest nesting of arrays and objects Parse accepts.
const MaxDepth = 10000

// SyntaxError describes invalid JSON text and where it is.
type SyntaxError struct {
	Msg    string
	Offset int // byte offset of the problem
	Line   int // 1-based
	Column int // 1-based, in bytes
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// Parse parses one JSON text (surrounding whitespace allowed) into a value.
func Parse(data []byte) (any, error) {
	p := parser{data: data}
	p.skipWS()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.skipWS()
	if p.pos < len(p.data) {
		return nil, p.errorf("unexpected %s after top-level value", p.describe())
	}
	return v, nil
}

// ParseString is Parse for a string. The strings of the value share s's
// memory where they need no unescaping (no copy of s, no allocation per
// string): s stays in memory as long as one of them does.
func ParseString(s string) (any, error) {
	p := parser{data: stringBytes(s), src: s, shared: true}
	p.skipWS()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.skipWS()
	if p.pos < len(p.data) {
		return nil, p.errorf("unexpected %s after top-level value", p.describe())
	}
	return v, nil
}

// stringBytes returns s's bytes without copying them; the parser only
// reads them.
func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// MustParse is Parse for literals known to be valid; it panics on error.
func MustParse(s string) any {
	v, err := Parse([]byte(s))
	if err != nil {
		panic(err)
	}
	return v
}

type parser struct {
	data []byte
	pos  int
	// src is data as a string when shared is set (ParseString): strings
	// without escapes are cut from it instead of copied.
	src    string
	shared bool
}

func (p *parser) errorf(format string, args ...any) error {
	line, col := 1, 1
	for i := 0; i < p.pos && i < len(p.data); i++ {
		if p.data[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return &SyntaxError{Msg: fmt.Sprintf(format, args...), Offset: p.pos, Line: line, Column: col}
}

func (p *parser) describe() string {
	if p.pos >= len(p.data) {
		return "end of input"
	}
	r, _ := utf8.DecodeRune(p.data[p.pos:])
	return strconv.QuoteRune(r)
}

func (p *parser) skipWS() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (any, error) {
	if p.pos >= len(p.data) {
		return nil, p.errorf("unexpected end of input")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(depth + 1)
	case c == '[':
		return p.array(depth + 1)
	case c == '"':
		str, err := p.str()
		if err != nil {
			return nil, err
		}
		return str, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 't':
		return p.literal("true", true)
	case c == 'f':
		return p.literal("false", false)
	case c == 'n':
		return p.literal("null", nil)
	}
	return nil, p.errorf("unexpected %s, expecting a value", p.describe())
}

func (p *parser) literal(word string, v any) (any, error) {
	if len(p.data)-p.pos >= len(word) && string(p.data[p.pos:p.pos+len(word)]) == word {
		p.pos += len(word)
		return v, nil
	}
	return nil, p.errorf("unexpected %s, expecting a value", p.describe())
}

func (p *parser) object(depth int) (any, error) {
	if depth > MaxDepth {
		return nil, p.errorf("nesting deeper than %d", MaxDepth)
	}
	p.pos++ // {
	p.skipWS()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return NewObject(0), nil
	}
	// The members are gathered on the stack (up to 8), then the object
	// is allocated once, at its size.
	var kbuf [8]string
	var vbuf [8]any
	keys, vals := kbuf[:0], vbuf[:0]
	for {
		p.skipWS()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.errorf("unexpected %s, expecting a string for an object key", p.describe())
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.skipWS()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.errorf("unexpected %s, expecting ':' after object key", p.describe())
		}
		p.pos++
		p.skipWS()
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		keys, vals = append(keys, k), append(vals, v)
		p.skipWS()
		if p.pos >= len(p.data) {
			return nil, p.errorf("unexpected end of input, expecting ',' or '}'")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			o := NewObject(len(keys))
			for i, k := range keys {
				o.Set(k, vals[i]) // a repeated key keeps its first place and its last value
			}
			return o, nil
		default:
			return nil, p.errorf("unexpected %s, expecting ',' or '}'", p.describe())
		}
	}
}

func (p *parser) array(depth int) (any, error) {
	if depth > MaxDepth {
		return nil, p.errorf("nesting deeper than %d", MaxDepth)
	}
	p.pos++ // [
	p.skipWS()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return make([]any, 0), nil
	}
	// As for objects: the elements on the stack first (up to 8), then
	// in a slice of their own.
	var buf [8]any
	n := 0
	var a []any
	for {
		p.skipWS()
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		switch {
		case a != nil:
			a = append(a, v)
		case n < len(buf):
			buf[n] = v
			n++
		default:
			a = make([]any, n, 2*n)
			copy(a, buf[:])
			a = append(a, v)
		}
		p.skipWS()
		if p.pos >= len(p.data) {
			return nil, p.errorf("unexpected end of input, expecting ',' or ']'")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			if a == nil {
				a = append([]any(nil), buf[:n]...)
			}
			return a, nil
		default:
			return nil, p.errorf("unexpected %s, expecting ',' or ']'", p.describe())
		}
	}
}

func (p *parser) str() (string, error) {
	p.pos++ // opening quote
	start := p.pos
	ascii := byte(0) // the bits of every byte: below 0x80, the text is ASCII
	// Fast path: no escapes.
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if c == '"' {
			var s string
			if p.shared {
				s = p.src[start:p.pos]
			} else {
				s = string(p.data[start:p.pos])
			}
			p.pos++
			if ascii < utf8.RuneSelf {
				return s, nil // ASCII is valid UTF-8
			}
			return validUTF8(s), nil
		}
		ascii |= c
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", p.errorf("control character in string")
		}
		p.pos++
	}
	buf := append([]byte(nil), p.data[start:p.pos]...)
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			return validUTF8(string(buf)), nil
		case c < 0x20:
			return "", p.errorf("control character in string")
		case c != '\\':
			buf = append(buf, c)
			p.pos++
			continue
		}
		p.pos++
		if p.pos >= len(p.data) {
			break
		}
		e := p.data[p.pos]
		p.pos++
		switch e {
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
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.errorf("invalid \\u escape in string")
			}
			if utf16.IsSurrogate(r) {
				if p.pos+1 < len(p.data) && p.data[p.pos] == '\\' && p.data[p.pos+1] == 'u' {
					save := p.pos
					p.pos += 2
					r2, ok := p.hex4()
					if ok {
						if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
							buf = utf8.AppendRune(buf, d)
							continue
						}
					}
					p.pos = save
				}
				r = utf8.RuneError
			}
			buf = utf8.AppendRune(buf, r)
		default:
			p.pos--
			return "", p.errorf("invalid escape %s in string", p.describe())
		}
	}
	return "", p.errorf("unterminated string")
}

func (p *parser) hex4() (rune, bool) {
	if len(p.data)-p.pos < 4 {
		return 0, false
	}
	var r rune
	for _, c := range p.data[p.pos : p.pos+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	p.pos += 4
	return r, true
}

func (p *parser) number() (any, error) {
	start := p.pos
	isFloat := false
	if p.data[p.pos] == '-' {
		p.pos++
	}
	intStart := p.pos
	if p.digits() == 0 {
		return nil, p.errorf("invalid number")
	}
	if p.data[intStart] == '0' && p.pos-intStart > 1 {
		p.pos = intStart + 1
		return nil, p.errorf("invalid number: leading zero")
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		isFloat = true
		p.pos++
		if p.digits() == 0 {
			return nil, p.errorf("invalid number: expecting digits after '.'")
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		isFloat = true
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if p.digits() == 0 {
			return nil, p.errorf("invalid number: expecting digits in exponent")
		}
	}
	// The text is read in place, not copied into a string of its own
	// (one allocation per number of more than one byte): parseNumber
	// keeps nothing of it.
	return parseNumber(unsafe.String(&p.data[start], p.pos-start), isFloat), nil
}

// digits skips the decimal digits at the parser's position and returns
// how many there were.
func (p *parser) digits() int {
	n := 0
	for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
		p.pos++
		n++
	}
	return n
}

// parseNumber converts valid JSON number text to its value; the value
// holds no part of s.
func parseNumber(s string, isFloat bool) any {
	if !isFloat {
		if len(s) < 19 {
			var n int64
			neg := s[0] == '-'
			for _, c := range []byte(s) {
				if c != '-' {
					n = n*10 + int64(c-'0')
				}
			}
			if neg {
				n = -n
			}
			return n
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
		b, _ := new(big.Int).SetString(s, 10)
		return b
	}
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// validUTF8 replaces invalid UTF-8 sequences with U+FFFD, as encoding/json
// does, so that every parsed string marshals back to the same value.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// ParseNumber parses JSON number text (as found in a definition or an
// intrinsic argument); ok is false when s is not a JSON number.
func ParseNumber(s string) (v any, ok bool) {
	p := parser{data: stringBytes(s), src: s, shared: true}
	if len(s) == 0 || !(s[0] == '-' || (s[0] >= '0' && s[0] <= '9')) {
		return nil, false
	}
	v, err := p.number()
	if err != nil || p.pos != len(s) {
		return nil, false
	}
	return v, true
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
