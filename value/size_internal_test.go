package value

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestIntLen(t *testing.T) {
	for _, x := range []int64{0, 1, 9, 10, 99, 100, -1, -9, -10, 12345, -12345, math.MaxInt64, math.MinInt64, math.MaxInt64 / 10, -(math.MaxInt64 / 10)} {
		if got, want := intLen(x), len(strconv.FormatInt(x, 10)); got != want {
			t.Errorf("intLen(%d) = %d, want %d", x, got, want)
		}
	}
}

// appendStringRef is AppendString as first written: make s valid UTF-8,
// then escape.
func appendStringRef(dst []byte, s string) []byte {
	s = strings.ToValidUTF8(s, "\uFFFD")
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c == '\b':
			dst = append(dst, '\\', 'b')
		case c == '\f':
			dst = append(dst, '\\', 'f')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// FuzzAppendString checks AppendString's one-pass escaping and UTF-8
// repair against the reference, and SizeWithin against its length (for
// valid UTF-8, which SizeWithin counts exactly).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "abc", "a\"b\\c\nd\x01", "é\xffx", "\xff\"", "日本\t語", "ok\xc3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, want := string(AppendString(nil, s)), string(appendStringRef(nil, s))
		if got != want {
			t.Fatalf("AppendString(%q) = %q, want %q", s, got, want)
		}
		if utf8.ValidString(s) {
			n := 0
			if !SizeWithin(s, &n, math.MaxInt) || n != len(want) {
				t.Fatalf("SizeWithin(%q) = %d, want %d", s, n, len(want))
			}
		}
	})
}

// FuzzSizeWithin checks SizeWithin against the length of the text Append
// writes for any JSON document (valid UTF-8), and that a limit one byte
// short fails.
func FuzzSizeWithin(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":"x\n","c":[true,null,1.5,{"d":"é"}]}`, `[]`, `"\u0001"`, `{"k\"":{}}`, `123456789012345678901234567890`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		v, err := Parse([]byte(s))
		if err != nil {
			return
		}
		want := len(Append(nil, v))
		n := 0
		if !SizeWithin(v, &n, want) || n != want {
			t.Fatalf("SizeWithin(%s) = %d, want %d", s, n, want)
		}
		n = 0
		if SizeWithin(v, &n, want-1) {
			t.Fatalf("SizeWithin(%s) within %d", s, want-1)
		}
	})
}
