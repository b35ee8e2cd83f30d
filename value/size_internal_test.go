package value

import (
	"math"
	"strconv"
	"testing"
)

func TestIntLen(t *testing.T) {
	for _, x := range []int64{0, 1, 9, 10, 99, 100, -1, -9, -10, 12345, -12345, math.MaxInt64, math.MinInt64, math.MaxInt64 / 10, -(math.MaxInt64 / 10)} {
		if got, want := intLen(x), len(strconv.FormatInt(x, 10)); got != want {
			t.Errorf("intLen(%d) = %d, want %d", x, got, want)
		}
	}
}
