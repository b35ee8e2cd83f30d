package intrinsic

import (
	"math/big"
	"strconv"

	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/value"
)

// MaxValueBytes is AWS's payload limit (256 KiB), applied to every value an
// intrinsic function builds, not only to a state's output: a value whose
// JSON text would pass it fails the call with States.DataLimitExceeded
// before more is allocated, so nested calls cannot multiply a small input
// into a huge one.
const MaxValueBytes = 262144

// tooLarge is the failure of a call whose result passes MaxValueBytes.
func tooLarge(c *Call) error {
	return fault.New(fault.DataLimitExceeded, "The value built by "+c.fn.name+
		" has a size exceeding the maximum number of bytes service limit.")
}

// sizeExceeds reports whether the JSON text of v is longer than limit. It
// walks v without building the text, and stops as soon as the count passes
// limit, so its cost is bounded by the limit whatever v's size (values
// built from shared parts can be far larger than the memory they hold).
// Escapes are not counted: the count is a lower bound of the text's length.
func sizeExceeds(v any, limit int) bool {
	n := 0
	return !sizeWalk(v, &n, limit)
}

func sizeWalk(v any, n *int, limit int) bool {
	switch x := v.(type) {
	case nil:
		*n += 4
	case bool:
		*n += 5
	case string:
		*n += len(x) + 2
	case int64:
		var b [24]byte
		*n += len(strconv.AppendInt(b[:0], x, 10))
	case float64:
		var b [32]byte
		*n += len(value.AppendFloat(b[:0], x))
	case *big.Int:
		*n += x.BitLen()/4 + 1 // at least the decimal digits, cheaply
	case []any:
		*n += 2 + len(x)
		for _, e := range x {
			if *n > limit || !sizeWalk(e, n, limit) {
				return false
			}
		}
	case *value.Object:
		*n += 2
		for i := 0; i < x.Len(); i++ {
			k, e := x.At(i)
			*n += len(k) + 4
			if *n > limit || !sizeWalk(e, n, limit) {
				return false
			}
		}
	}
	return *n <= limit
}
