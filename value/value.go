// Package value is Stepwell's representation of JSON values.
//
// AWS Step Functions preserves the key order of objects and the exact form of
// numbers (integers stay integers, large integers keep every digit, 1.0 stays
// a float), and both show in outputs and in States.JsonToString. Go's
// map[string]any loses the first and float64 the second, so every package
// that handles state data uses these types instead:
//
//	JSON      Go
//	null      nil
//	true      bool
//	"s"       string
//	1         int64             (integers that fit)
//	1e400, 1.5 float64          (numbers written with '.', 'e' or 'E')
//	9…9       *big.Int          (integers beyond int64)
//	[…]       []any
//	{…}       *Object           (ordered keys)
//
// Values are immutable once built: functions that "modify" a value (for
// example a ResultPath assignment) copy the containers along the path they
// change and share everything else. Code must never mutate a value it did not
// just create.
package value

import (
	"math"
	"math/big"
)

// Object is a JSON object that keeps its keys in insertion order. The zero
// value is an empty object ready to use.
type Object struct {
	// m holds the members in order: one slice of key/value pairs, so
	// that the header is 32 bytes (two slices and the index were 56),
	// and a small object built by NewObject, with its members, fills one
	// size class less.
	m   []member
	idx map[string]int // key positions, kept for objects of indexThreshold keys or more
}

// member is one key and its value.
type member struct {
	k string
	v any
}

// indexThreshold is the size from which lookups use a map instead of a scan.
const indexThreshold = 12

// NewObject returns an empty object with room for n members.
func NewObject(n int) *Object {
	// A small object and its members are one allocation (most objects a
	// state builds or parses are small, and three allocations per object
	// were most of what an execution allocated).
	switch {
	case n <= 0:
		return &Object{}
	case n == 1:
		b := &object1{}
		b.o.m = b.m[:0]
		return &b.o
	case n == 2:
		b := &object2{}
		b.o.m = b.m[:0]
		return &b.o
	case n == 3:
		b := &object3{}
		b.o.m = b.m[:0]
		return &b.o
	case n == 4:
		b := &object4{}
		b.o.m = b.m[:0]
		return &b.o
	case n <= 6:
		b := &object6{}
		b.o.m = b.m[:0]
		return &b.o
	case n <= 8:
		b := &object8{}
		b.o.m = b.m[:0]
		return &b.o
	}
	return &Object{m: make([]member, 0, n)}
}

// object1 … object8 hold an Object and room for its members, each the
// size of one of the allocator's size classes (64, 96, 128, 160, 224 and
// 288 bytes).
type (
	object1 struct {
		o Object
		m [1]member
	}
	object2 struct {
		o Object
		m [2]member
	}
	object3 struct {
		o Object
		m [3]member
	}
	object4 struct {
		o Object
		m [4]member
	}
	object6 struct {
		o Object
		m [6]member
	}
	object8 struct {
		o Object
		m [8]member
	}
)

// Len returns the number of members.
func (o *Object) Len() int {
	if o == nil {
		return 0
	}
	return len(o.m)
}

// Keys returns the keys in order, in a new slice (Len and At read them
// without one).
func (o *Object) Keys() []string {
	if o == nil || len(o.m) == 0 {
		return nil
	}
	keys := make([]string, len(o.m))
	for i := range o.m {
		keys[i] = o.m[i].k
	}
	return keys
}

// At returns the i-th member.
func (o *Object) At(i int) (string, any) { return o.m[i].k, o.m[i].v }

func (o *Object) find(k string) int {
	if o.idx != nil {
		if i, ok := o.idx[k]; ok {
			return i
		}
		return -1
	}
	for i := range o.m {
		if o.m[i].k == k {
			return i
		}
	}
	return -1
}

// reindex rebuilds the lookup map of a large object. Only mutation paths
// call it, so concurrent readers of a finished object never write.
func (o *Object) reindex() {
	if len(o.m) < indexThreshold {
		o.idx = nil
		return
	}
	o.idx = make(map[string]int, len(o.m))
	for i := range o.m {
		o.idx[o.m[i].k] = i
	}
}

// Get returns the value of key k and whether it is present.
func (o *Object) Get(k string) (any, bool) {
	if o == nil {
		return nil, false
	}
	i := o.find(k)
	if i < 0 {
		return nil, false
	}
	return o.m[i].v, true
}

// Has reports whether key k is present.
func (o *Object) Has(k string) bool {
	if o == nil {
		return false
	}
	return o.find(k) >= 0
}

// Set sets key k in place: an existing key keeps its position, a new key is
// appended. Only call Set on an object you are building.
func (o *Object) Set(k string, v any) {
	if i := o.find(k); i >= 0 {
		o.m[i].v = v
		return
	}
	o.m = append(o.m, member{k, v})
	if o.idx != nil {
		o.idx[k] = len(o.m) - 1
	} else if len(o.m) == indexThreshold {
		o.reindex()
	}
}

// SetWithin is Set when it needs no allocation: k is present (its value
// is replaced) or the object has room for one more member (k is
// appended). It reports whether it set k; when it did not, o is
// unchanged. Only call SetWithin on an object nothing else holds.
func (o *Object) SetWithin(k string, v any) bool {
	if i := o.find(k); i >= 0 {
		o.m[i].v = v
		return true
	}
	if n := len(o.m); n == cap(o.m) || n+1 >= indexThreshold {
		return false // growing the slice or indexing the keys allocates
	}
	o.m = append(o.m, member{k, v})
	return true
}

// Delete removes key k in place, keeping the order of the others. Only call
// Delete on an object you are building.
func (o *Object) Delete(k string) {
	i := o.find(k)
	if i < 0 {
		return
	}
	o.m = append(o.m[:i], o.m[i+1:]...)
	o.m[len(o.m):cap(o.m)][0] = member{} // the removed member's references
	o.reindex()
}

// Copy returns a shallow copy of o that can be modified with Set and Delete.
func (o *Object) Copy() *Object {
	if o == nil {
		return NewObject(0)
	}
	// Room for one more member: With adds one.
	c := NewObject(len(o.m) + 1)
	c.m = append(c.m, o.m...)
	c.reindex()
	return c
}

// With returns a copy of o with key k set to v; o is unchanged.
func (o *Object) With(k string, v any) *Object {
	c := o.Copy()
	c.Set(k, v)
	return c
}

// Range calls f for each member in order until f returns false.
func (o *Object) Range(f func(k string, v any) bool) {
	if o == nil {
		return
	}
	for i := range o.m {
		if !f(o.m[i].k, o.m[i].v) {
			return
		}
	}
}

// TypeName returns the JSON type of v: "null", "boolean", "string",
// "number", "array", "object", or "unknown" for a non-JSON Go value.
func TypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case int64, float64, *big.Int:
		return "number"
	case []any:
		return "array"
	case *Object:
		return "object"
	}
	return "unknown"
}

// IsNumber reports whether v is a JSON number.
func IsNumber(v any) bool {
	switch v.(type) {
	case int64, float64, *big.Int:
		return true
	}
	return false
}

// IsInteger reports whether v is a number with no fractional part.
func IsInteger(v any) bool {
	switch n := v.(type) {
	case int64, *big.Int:
		return true
	case float64:
		return n == math.Trunc(n) && !math.IsInf(n, 0)
	}
	return false
}

// ToFloat converts a number to float64; ok is false for non-numbers.
func ToFloat(v any) (f float64, ok bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case float64:
		return n, true
	case *big.Int:
		f, _ := new(big.Float).SetInt(n).Float64()
		return f, true
	}
	return 0, false
}

// Number returns the canonical number value for f: an int64 when f is an
// integer within int64 range and asInt is true, else f itself.
func Number(f float64, asInt bool) any {
	if asInt && f == math.Trunc(f) && f >= -9.2e18 && f <= 9.2e18 {
		return int64(f)
	}
	return f
}

// Compare orders two numbers: -1, 0 or +1. Both must be numbers.
func Compare(a, b any) int {
	if ai, ok := a.(int64); ok {
		if bi, ok := b.(int64); ok {
			switch {
			case ai < bi:
				return -1
			case ai > bi:
				return 1
			}
			return 0
		}
	}
	_, abig := a.(*big.Int)
	_, bbig := b.(*big.Int)
	if abig || bbig {
		return toBigFloat(a).Cmp(toBigFloat(b))
	}
	af, _ := ToFloat(a)
	bf, _ := ToFloat(b)
	switch {
	case af < bf:
		return -1
	case af > bf:
		return 1
	}
	return 0
}

func toBigFloat(v any) *big.Float {
	switch n := v.(type) {
	case int64:
		return new(big.Float).SetInt64(n)
	case float64:
		return big.NewFloat(n)
	case *big.Int:
		return new(big.Float).SetInt(n)
	}
	return new(big.Float)
}

// Equal reports whether a and b are the same JSON value. Numbers compare by
// value (1 equals 1.0); object key order does not matter.
func Equal(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case int64, float64, *big.Int:
		return IsNumber(b) && Compare(a, b) == 0
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case *Object:
		y, ok := b.(*Object)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for i := range x.m {
			yv, ok := y.Get(x.m[i].k)
			if !ok || !Equal(x.m[i].v, yv) {
				return false
			}
		}
		return true
	}
	return false
}

// DeepCopy returns a copy of v that shares no containers with it.
func DeepCopy(v any) any {
	switch x := v.(type) {
	case []any:
		c := make([]any, len(x))
		for i := range x {
			c[i] = DeepCopy(x[i])
		}
		return c
	case *Object:
		c := NewObject(x.Len())
		for i := range x.m {
			c.m = append(c.m, member{x.m[i].k, DeepCopy(x.m[i].v)})
		}
		c.reindex()
		return c
	}
	return v
}

// FromGo converts a value built from Go's encoding/json shapes
// (map[string]any with sorted keys, float64, int, …) into this package's
// representation. Map keys are sorted, so prefer Parse where order matters.
func FromGo(v any) any {
	switch x := v.(type) {
	case map[string]any:
		o := NewObject(len(x))
		for _, k := range sortedKeys(x) {
			o.Set(k, FromGo(x[k]))
		}
		return o
	case []any:
		c := make([]any, len(x))
		for i := range x {
			c[i] = FromGo(x[i])
		}
		return c
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case float32:
		return float64(x)
	case []string:
		c := make([]any, len(x))
		for i := range x {
			c[i] = x[i]
		}
		return c
	}
	return v
}
