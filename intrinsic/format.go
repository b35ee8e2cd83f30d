package intrinsic

import (
	"math/big"
	"strconv"
	"strings"

	"github.com/stepwell/stepwell/value"
)

// template is a compiled States.Format template: the literal text between
// placeholders. A template with n placeholders has n+1 parts.
type template struct {
	parts []string
	bad   bool // an unescaped '{' or '}' that is not part of "{}"
}

// compileTemplate splits a template into literal parts around "{}". The
// escapes \{ \} \' and \\ stand for the character itself; any other
// backslash is kept as is (string literals with other escapes never parse).
func compileTemplate(s string) *template {
	t := &template{}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 < len(s) {
				switch s[i+1] {
				case '{', '}', '\'', '\\':
					b.WriteByte(s[i+1])
					i++
					continue
				}
			}
			b.WriteByte(c)
		case '{':
			if i+1 < len(s) && s[i+1] == '}' {
				t.parts = append(t.parts, b.String())
				b.Reset()
				i++
				continue
			}
			t.bad = true
			b.WriteByte(c)
		case '}':
			t.bad = true
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	t.parts = append(t.parts, b.String())
	return t
}

// placeholders returns the number of "{}" in the template.
func (t *template) placeholders() int { return len(t.parts) - 1 }

// render fills the placeholders with args rendered as AWS does. It reports
// false, having allocated at most about limit bytes, when the text would be
// longer than limit.
func (t *template) render(args []any, limit int) (string, bool) {
	n := 0
	for _, p := range t.parts {
		n += len(p)
	}
	if n > limit {
		return "", false
	}
	b := make([]byte, 0, min(n+16*len(args), limit))
	for i, p := range t.parts {
		b = append(b, p...)
		if i < len(args) {
			var ok bool
			if b, ok = appendJavaString(b, args[i], limit); !ok {
				return "", false
			}
		}
	}
	if len(b) > limit {
		return "", false
	}
	return string(b), true
}

// appendJavaString renders v as AWS renders a States.Format argument:
// strings without quotes, numbers in Java's form, and containers the way
// Java's Map and List toString print them ({k=v, k2=v2} and [a, b]).
// It reports false, without appending a string that would pass it, as soon
// as dst is longer than limit.
func appendJavaString(dst []byte, v any, limit int) ([]byte, bool) {
	switch x := v.(type) {
	case nil:
		dst = append(dst, "null"...)
	case string:
		if len(dst)+len(x) > limit {
			return dst, false
		}
		dst = append(dst, x...)
	case bool:
		dst = strconv.AppendBool(dst, x)
	case int64:
		dst = strconv.AppendInt(dst, x, 10)
	case float64:
		dst = value.AppendFloat(dst, x)
	case *big.Int:
		dst = x.Append(dst, 10)
	case []any:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			var ok bool
			if dst, ok = appendJavaString(dst, e, limit); !ok {
				return dst, false
			}
		}
		dst = append(dst, ']')
	case *value.Object:
		dst = append(dst, '{')
		for i := 0; i < x.Len(); i++ {
			k, e := x.At(i)
			if i > 0 {
				dst = append(dst, ", "...)
			}
			if len(dst)+len(k) > limit {
				return dst, false
			}
			dst = append(dst, k...)
			dst = append(dst, '=')
			var ok bool
			if dst, ok = appendJavaString(dst, e, limit); !ok {
				return dst, false
			}
		}
		dst = append(dst, '}')
	default:
		dst = value.Append(dst, v)
	}
	return dst, len(dst) <= limit
}
