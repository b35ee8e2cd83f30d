package intrinsic

// javaRandom is java.util.Random's linear congruential generator, used for
// States.MathRandom with a seed so that a seed always gives the same number
// (and, presumably, the number AWS's Java implementation gives).
type javaRandom struct{ seed int64 }

const (
	javaMultiplier = 0x5DEECE66D
	javaAddend     = 0xB
	javaMask       = (1 << 48) - 1
)

func newJavaRandom(seed int64) *javaRandom {
	return &javaRandom{seed: (seed ^ javaMultiplier) & javaMask}
}

func (r *javaRandom) next(bits uint) int32 {
	r.seed = (r.seed*javaMultiplier + javaAddend) & javaMask
	return int32(uint64(r.seed) >> (48 - bits))
}

// nextInt returns a number in [0, bound) as Random.nextInt(int) does; bound
// must be positive. Bounds beyond int32 (impossible in Java) use nextLong.
func (r *javaRandom) nextInt(bound int64) int64 {
	if bound > 1<<31-1 {
		hi := int64(r.next(32))
		lo := int64(r.next(32))
		n := (hi<<32 + lo) % bound
		if n < 0 {
			n += bound
		}
		return n
	}
	b := int32(bound)
	rv := r.next(31)
	m := b - 1
	if b&m == 0 {
		return int64(int32((int64(b) * int64(rv)) >> 31))
	}
	for u := rv; ; u = r.next(31) {
		rv = u % b
		if u-rv+m >= 0 { // no int32 overflow: the value is unbiased
			return int64(rv)
		}
	}
}
