package value

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"
)

// Marshal returns the compact JSON text of v, as AWS prints it: no spaces,
// keys in order, non-ASCII characters as they are, numbers in Java's form
// (1.0, 1.0E10), non-finite numbers quoted ("Infinity").
func Marshal(v any) []byte {
	p := getBuf()
	b := Append((*p)[:0], v)
	out := append([]byte(nil), b...)
	putBuf(p, b)
	return out
}

// String returns the compact JSON text of v.
func String(v any) string {
	p := getBuf()
	b := Append((*p)[:0], v)
	s := string(b)
	putBuf(p, b)
	return s
}

// StringPtr returns a pointer to the compact JSON text of v, for an
// API that hands out texts as *string (an execution's output). A short
// text and the string that points to it are one allocation instead of
// two (the text is rendered on the stack, then copied once into a box
// that holds both).
func StringPtr(v any) *string {
	var stack [boxedMax]byte
	b := Append(stack[:0], v)
	switch n := len(b); {
	case n <= 16:
		return boxText[[16]byte](b)
	case n <= 48:
		return boxText[[48]byte](b)
	case n <= 112:
		return boxText[[112]byte](b)
	case n <= boxedMax:
		return boxText[[boxedMax]byte](b)
	}
	s := string(b)
	return &s
}

// boxedMax is the longest text StringPtr boxes: with its string header,
// a box fills one of the allocator's size classes (32, 64, 128 or 256
// bytes).
const boxedMax = 240

// box is a string and room for its bytes (A is a byte array).
type box[A any] struct {
	s string
	b A
}

// boxText copies b into a new box and returns its string, which points
// into the box: the box is immutable once built, and the string keeps it
// alive.
func boxText[A any](b []byte) *string {
	x := new(box[A])
	room := unsafe.Slice((*byte)(unsafe.Pointer(&x.b)), unsafe.Sizeof(x.b))
	n := copy(room, b)
	x.s = unsafe.String(&room[0], n)
	return &x.s
}

// Marshal and String encode into a pooled buffer and copy the text out
// once: one allocation of the exact size instead of one per doubling of a
// slice grown from nil (the engine encodes every state's input and
// output).
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxPooledBuf is the largest buffer kept for reuse: a rare large payload
// does not stay in memory.
const maxPooledBuf = 64 << 10

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

// putBuf returns p to the pool, keeping b (p's buffer after appending).
func putBuf(p *[]byte, b []byte) {
	if cap(b) > maxPooledBuf {
		return
	}
	*p = b[:0]
	bufPool.Put(p)
}

// Append appends the compact JSON text of v to dst.
func Append(dst []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...)
	case bool:
		if x {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case string:
		return AppendString(dst, x)
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case float64:
		return AppendFloat(dst, x)
	case *big.Int:
		return x.Append(dst, 10)
	case []any:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = Append(dst, e)
		}
		return append(dst, ']')
	case *Object:
		dst = append(dst, '{')
		if x != nil {
			for i := range x.m {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = AppendString(dst, x.m[i].k)
				dst = append(dst, ':')
				// The commonest members inline, without a call.
				switch e := x.m[i].v.(type) {
				case string:
					dst = AppendString(dst, e)
				case int64:
					dst = strconv.AppendInt(dst, e, 10)
				default:
					dst = Append(dst, e)
				}
			}
		}
		return append(dst, '}')
	case int:
		return strconv.AppendInt(dst, int64(x), 10)
	}
	return append(dst, "null"...)
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string literal, escaping only what JSON
// requires (quote, backslash, control characters), as Jackson does.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	i := 0
	for i < len(s) && plain[s[i]] {
		i++
	}
	if i == len(s) { // printable ASCII without quotes or backslashes
		dst = append(dst, s...)
		return append(dst, '"')
	}
	return appendEscaped(dst, s, i)
}

// plain tells the bytes AppendString copies as they are whatever surrounds
// them: printable ASCII but the quote and backslash.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendEscaped is AppendString from the first byte of s that is not
// plain, at i; dst has the opening quote.
func appendEscaped(dst []byte, s string, i int) []byte {
	start := 0
	checked := false // s is valid UTF-8 (known once a non-ASCII byte is seen)
	for ; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			if c >= utf8.RuneSelf && !checked {
				// The bytes before i are ASCII: only the rest may be
				// invalid.
				if !utf8.ValidString(s[i:]) {
					s = s[:i] + strings.ToValidUTF8(s[i:], "\uFFFD")
				}
				checked = true
			}
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"':
			dst = append(dst, '\\', '"')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendFloat appends f as Java's Double.toString does: plain notation with
// at least one fractional digit for 1e-3 <= |f| < 1e7, otherwise
// computerized scientific notation such as 1.0E10 or 1.5E-4.
func AppendFloat(dst []byte, f float64) []byte {
	switch {
	// Jackson quotes non-finite numbers by default (QUOTE_NON_NUMERIC_NUMBERS),
	// which keeps the output valid JSON; 1e400 in an input becomes "Infinity".
	case math.IsNaN(f):
		return append(dst, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(dst, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(dst, `"-Infinity"`...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		n := len(dst)
		dst = strconv.AppendFloat(dst, f, 'f', -1, 64)
		for _, c := range dst[n:] {
			if c == '.' {
				return dst
			}
		}
		return append(dst, '.', '0')
	}
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64) // -1.2345e-05
	mant, exp, _ := strings.Cut(string(e), "e")
	dst = append(dst, mant...)
	if !strings.Contains(mant, ".") {
		dst = append(dst, '.', '0')
	}
	dst = append(dst, 'E')
	x, _ := strconv.Atoi(exp)
	return strconv.AppendInt(dst, int64(x), 10)
}

// FormatFloat returns AppendFloat's text for f.
func FormatFloat(f float64) string { return string(AppendFloat(nil, f)) }
