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
	for i := 0; i < len(s); i++ { // escapes, as AppendString writes them
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue // most characters: one test
		}
		switch c {
		case '"', '\\', '\n', '\r', '\t', '\b', '\f':
			*n++
		default:
			*n += 5
		}
	}
	return true
}

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
