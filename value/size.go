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
	m, ok := sizeWithin(v, *n, limit)
	*n = m
	return ok
}

// sizeWithin is SizeWithin with the count passed by value (kept in a
// register), the object case first and an object's string and integer
// members measured inline.
func sizeWithin(v any, n, limit int) (int, bool) {
	switch x := v.(type) {
	case *Object:
		n += 2 + max(x.Len()-1, 0) // braces and commas
		if x == nil {
			break
		}
		for i := range x.m {
			// The key, its quotes and the colon.
			k := x.m[i].k
			if n += len(k) + 3; n > limit {
				return n, false
			}
			n += escapes(k)
			switch e := x.m[i].v.(type) {
			case string:
				if n += len(e) + 2; n > limit {
					return n, false
				}
				n += escapes(e)
			case int64:
				n += intLen(e)
			default:
				var ok bool
				if n, ok = sizeWithin(e, n, limit); !ok {
					return n, false
				}
			}
		}
	case string:
		if n += len(x) + 2; n > limit {
			return n, false
		}
		n += escapes(x)
	case int64:
		n += intLen(x)
	case []any:
		n += 2 + max(len(x)-1, 0) // brackets and commas
		for _, e := range x {
			var ok bool
			if n, ok = sizeWithin(e, n, limit); !ok {
				return n, false
			}
		}
	case nil:
		n += 4
	case bool:
		if x {
			n += 4
		} else {
			n += 5
		}
	case float64:
		var b [32]byte
		n += len(AppendFloat(b[:0], x))
	case *big.Int:
		n += len(x.String())
	}
	return n, n <= limit
}

// escapes is how many bytes AppendString writes for s beyond s itself and
// its quotes.
func escapes(s string) int {
	extra := 0
	for i := 0; i < len(s); i++ {
		extra += int(escapeExtra[s[i]])
	}
	return extra
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
