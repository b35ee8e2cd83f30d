package value

import (
	"math/big"
)

// SizeWithin adds the length of v's JSON text (as Append writes it, invalid
// UTF-8 aside) to *n, walking v without building the text, and reports
// whether *n stayed within limit. It stops as soon as *n passes limit, so
// its cost is bounded by the limit whatever v's size: a value built from
// shared parts (a template or intrinsic that names the same input many
// times) can stand for far more text than the memory it holds.
func SizeWithin(v any, n *int, limit int) bool {
	switch x := v.(type) {
	case nil:
		*n += 4
	case bool:
		if x {
			*n += 4
		} else {
			*n += 5
		}
	case string:
		if !stringSize(x, n, limit) {
			return false
		}
	case int64:
		*n += intLen(x)
	case float64:
		var b [32]byte
		*n += len(AppendFloat(b[:0], x))
	case *big.Int:
		*n += len(x.String())
	case []any:
		*n += 2 + max(len(x)-1, 0) // brackets and commas
		for _, e := range x {
			if !SizeWithin(e, n, limit) {
				return false
			}
		}
	case *Object:
		*n += 2 + max(x.Len()-1, 0) // braces and commas
		for i := 0; i < x.Len(); i++ {
			k, e := x.At(i)
			*n++ // the colon
			if !stringSize(k, n, limit) || !SizeWithin(e, n, limit) {
				return false
			}
		}
	}
	return *n <= limit
}

// stringSize adds the length of s as a JSON string literal to *n.
func stringSize(s string, n *int, limit int) bool {
	*n += len(s) + 2
	if *n > limit {
		return false
	}
	extra := 0
	for i := 0; i < len(s); i++ { // escapes, as AppendString writes them
		extra += int(escapeExtra[s[i]])
	}
	*n += extra
	return true
}

// escapeExtra is how many bytes AppendString writes for a byte beyond the
// byte itself: one for the two-character escapes, five for \u00XX.
var escapeExtra = func() (t [256]uint8) {
	for c := 0; c < 0x20; c++ {
		t[c] = 5
	}
	for _, c := range []byte{'"', '\\', '\n', '\r', '\t', '\b', '\f'} {
		t[c] = 1
	}
	return t
}()

// intLen is the number of characters of x in decimal.
func intLen(x int64) int {
	n, u := 1, uint64(x)
	if x < 0 {
		n, u = 2, -u // two's complement: the magnitude, also of math.MinInt64
	}
	for ; u >= 10; u /= 10 {
		n++
	}
	return n
}
