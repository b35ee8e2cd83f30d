package intrinsic

import (
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/value"
)

// MaxValueBytes is AWS's payload limit (256 KiB), applied to every value an
// intrinsic function builds, not only to a state's output: a value whose
// JSON text would pass it fails the call with States.DataLimitExceeded
// before more is allocated, so nested calls cannot multiply a small input
// into a huge one. The arguments that nested calls build for one call are
// held together, so they are held to the limit together too (a call of
// many arguments each near the limit would otherwise hold their sum).
const MaxValueBytes = 262144

// tooLarge is the failure of a call whose result, or whose arguments built
// by nested calls, pass MaxValueBytes.
func tooLarge(c *Call) error {
	return fault.New(fault.DataLimitExceeded, "The value built by "+c.fn.name+
		" has a size exceeding the maximum number of bytes service limit.")
}

// sizeExceeds reports whether the JSON text of v is longer than limit,
// walking at most the limit's worth of v.
func sizeExceeds(v any, limit int) bool {
	n := 0
	return !value.SizeWithin(v, &n, limit)
}
