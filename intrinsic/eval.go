package intrinsic

import (
	"encoding/base64"
	"encoding/hex"
	"math"
	"math/big"
	mrand "math/rand/v2"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/internal/digest"
	"github.com/stepwell/stepwell/internal/uuid"
	"github.com/stepwell/stepwell/value"
)

// MaxRangeItems is the largest array States.ArrayRange may produce.
const MaxRangeItems = 1000

// MaxStringChars is the longest input (in UTF-16 code units, as Java counts
// characters) that Base64Encode, Base64Decode and Hash accept.
const MaxStringChars = 10000

// function is one intrinsic function.
type function struct {
	name string
	id   fnID
}

type fnID uint8

const (
	fnFormat fnID = iota
	fnStringToJson
	fnJsonToString
	fnArray
	fnArrayPartition
	fnArrayContains
	fnArrayRange
	fnArrayGetItem
	fnArrayLength
	fnArrayUnique
	fnBase64Encode
	fnBase64Decode
	fnHash
	fnJsonMerge
	fnMathRandom
	fnMathAdd
	fnStringSplit
	fnUUID
)

var functions = map[string]*function{}

func init() {
	for i, name := range []string{
		"States.Format", "States.StringToJson", "States.JsonToString", "States.Array",
		"States.ArrayPartition", "States.ArrayContains", "States.ArrayRange", "States.ArrayGetItem",
		"States.ArrayLength", "States.ArrayUnique", "States.Base64Encode", "States.Base64Decode",
		"States.Hash", "States.JsonMerge", "States.MathRandom", "States.MathAdd",
		"States.StringSplit", "States.UUID",
	} {
		functions[name] = &function{name: name, id: fnID(i)}
	}
}

// apply runs the function on evaluated arguments. A switch rather than a
// function value keeps args on the caller's stack.
func (c *Call) apply(args []any) (any, error) {
	switch c.fn.id {
	case fnFormat:
		return evalFormat(c, args)
	case fnStringToJson:
		return evalStringToJson(c, args)
	case fnJsonToString:
		return evalJsonToString(c, args)
	case fnArray:
		return evalArray(c, args)
	case fnArrayPartition:
		return evalArrayPartition(c, args)
	case fnArrayContains:
		return evalArrayContains(c, args)
	case fnArrayRange:
		return evalArrayRange(c, args)
	case fnArrayGetItem:
		return evalArrayGetItem(c, args)
	case fnArrayLength:
		return evalArrayLength(c, args)
	case fnArrayUnique:
		return evalArrayUnique(c, args)
	case fnBase64Encode:
		return evalBase64Encode(c, args)
	case fnBase64Decode:
		return evalBase64Decode(c, args)
	case fnHash:
		return evalHash(c, args)
	case fnJsonMerge:
		return evalJsonMerge(c, args)
	case fnMathRandom:
		return evalMathRandom(c, args)
	case fnMathAdd:
		return evalMathAdd(c, args)
	case fnStringSplit:
		return evalStringSplit(c, args)
	}
	return evalUUID(c, args)
}

func lookup(name string) *function { return functions[name] }

// Names returns the names of all intrinsic functions.
func Names() []string {
	names := make([]string, 0, len(functions))
	for n := range functions {
		names = append(names, n)
	}
	return names
}

// invalid is AWS's failure for arguments a function cannot use.
func invalid(c *Call) error {
	return fault.New(fault.Runtime, "Invalid arguments in "+c.fn.name)
}

// Eval evaluates the call. Path arguments are read through r; its errors are
// returned unchanged. Failures of the functions themselves are *fault.Error
// named States.Runtime, with the cause "Invalid arguments in States.<Name>"
// (the engine prefixes the state's "An error occurred while executing the
// state …" text).
func (c *Call) Eval(r Resolver) (any, error) {
	var buf [4]any
	args := buf[:0]
	if len(c.args) > len(buf) {
		args = make([]any, 0, len(c.args))
	}
	held := 0 // the size of the arguments nested calls built, held together
	for i := range c.args {
		a := &c.args[i]
		switch a.kind {
		case argLiteral:
			args = append(args, a.lit)
		case argPath:
			v, err := r.Resolve(a.path)
			if err != nil {
				return nil, err
			}
			args = append(args, v)
		case argCall:
			v, err := a.call.Eval(r)
			if err != nil {
				return nil, err
			}
			if !value.SizeWithin(v, &held, MaxValueBytes) {
				return nil, tooLarge(c)
			}
			args = append(args, v)
		}
	}
	return c.apply(args)
}

func evalFormat(c *Call, args []any) (any, error) {
	if len(args) == 0 {
		return nil, invalid(c)
	}
	var t *template
	if a := &c.args[0]; a.kind == argLiteral && a.tmpl != nil {
		t = a.tmpl
	} else {
		s, ok := args[0].(string)
		if !ok {
			return nil, invalid(c)
		}
		t = compileTemplate(s)
	}
	if t.bad || t.placeholders() != len(args)-1 {
		return nil, invalid(c)
	}
	out, ok := t.render(args[1:], MaxValueBytes)
	if !ok {
		return nil, tooLarge(c)
	}
	return out, nil
}

func evalStringToJson(c *Call, args []any) (any, error) {
	if len(args) != 1 {
		return nil, invalid(c)
	}
	s, ok := args[0].(string)
	if !ok {
		return nil, invalid(c)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	v, err := value.ParseString(s)
	if err != nil {
		return nil, invalid(c)
	}
	return v, nil
}

func evalJsonToString(c *Call, args []any) (any, error) {
	if len(args) != 1 {
		return nil, invalid(c)
	}
	if sizeExceeds(args[0], MaxValueBytes) {
		return nil, tooLarge(c)
	}
	out := value.String(args[0])
	if len(out) > MaxValueBytes { // escapes the estimate did not count
		return nil, tooLarge(c)
	}
	return out, nil
}

func evalArray(c *Call, args []any) (any, error) {
	out := make([]any, len(args))
	copy(out, args)
	return checked(c, out)
}

// checked returns the value a call built, or its failure when the value's
// JSON text passes MaxValueBytes. The values such calls build share their
// parts with their arguments, so the check costs at most the limit's worth
// of walking, not the value's size.
func checked(c *Call, v any) (any, error) {
	if sizeExceeds(v, MaxValueBytes) {
		return nil, tooLarge(c)
	}
	return v, nil
}

func evalArrayPartition(c *Call, args []any) (any, error) {
	if len(args) != 2 {
		return nil, invalid(c)
	}
	arr, ok := args[0].([]any)
	if !ok {
		return nil, invalid(c)
	}
	size, ok := toInt(args[1])
	if !ok || size <= 0 {
		return nil, invalid(c)
	}
	out := make([]any, 0, (int64(len(arr))+size-1)/size)
	for i := int64(0); i < int64(len(arr)); i += size {
		end := min(i+size, int64(len(arr)))
		chunk := make([]any, end-i)
		copy(chunk, arr[i:end])
		out = append(out, chunk)
	}
	return checked(c, out)
}

// containsKey is the text AWS compares in States.ArrayContains: strings
// stand for themselves, other values for their JSON text (so the string
// "true" matches true, and objects match only with the same key order).
func containsKey(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return value.String(v)
}

func evalArrayContains(c *Call, args []any) (any, error) {
	if len(args) != 2 {
		return nil, invalid(c)
	}
	arr, ok := args[0].([]any)
	if !ok {
		return nil, invalid(c)
	}
	want := containsKey(args[1])
	for _, e := range arr {
		if containsKey(e) == want {
			return true, nil
		}
	}
	return false, nil
}

func evalArrayRange(c *Call, args []any) (any, error) {
	if len(args) != 3 {
		return nil, invalid(c)
	}
	first, ok1 := toInt(args[0])
	last, ok2 := toInt(args[1])
	step, ok3 := toInt(args[2])
	if !ok1 || !ok2 || !ok3 || step == 0 {
		return nil, invalid(c)
	}
	var n int64
	switch {
	case step > 0 && last >= first:
		n = (last-first)/step + 1
	case step < 0 && last <= first:
		n = (first-last)/(-step) + 1
	}
	if n > MaxRangeItems {
		return nil, invalid(c)
	}
	out := make([]any, n)
	for i := range out {
		out[i] = first + int64(i)*step
	}
	return out, nil
}

func evalArrayGetItem(c *Call, args []any) (any, error) {
	if len(args) != 2 {
		return nil, invalid(c)
	}
	arr, ok := args[0].([]any)
	if !ok {
		return nil, invalid(c)
	}
	idx, ok := toInt(args[1])
	if !ok {
		return nil, invalid(c)
	}
	if len(arr) == 0 {
		// Observed on AWS: any index into an empty array yields null.
		return nil, nil
	}
	if idx < 0 || idx >= int64(len(arr)) {
		return nil, invalid(c)
	}
	return arr[idx], nil
}

func evalArrayLength(c *Call, args []any) (any, error) {
	if len(args) != 1 {
		return nil, invalid(c)
	}
	arr, ok := args[0].([]any)
	if !ok {
		return nil, invalid(c)
	}
	return int64(len(arr)), nil
}

func evalArrayUnique(c *Call, args []any) (any, error) {
	if len(args) != 1 {
		return nil, invalid(c)
	}
	arr, ok := args[0].([]any)
	if !ok {
		return nil, invalid(c)
	}
	seen := make(map[string]struct{}, len(arr))
	out := make([]any, 0, len(arr))
	var kb []byte
	for _, e := range arr {
		kb = appendUniqueKey(kb[:0], e)
		if _, dup := seen[string(kb)]; dup {
			continue
		}
		seen[string(kb)] = struct{}{}
		out = append(out, e)
	}
	return out, nil
}

// appendUniqueKey appends a canonical form of v in which two values are
// equal exactly when Jackson's JsonNode.equals says so: integers and
// floating-point numbers differ, object key order does not matter.
func appendUniqueKey(dst []byte, v any) []byte {
	switch x := v.(type) {
	case int64:
		dst = append(dst, 'i')
		return value.Append(dst, x)
	case *big.Int:
		dst = append(dst, 'i')
		return x.Append(dst, 10)
	case float64:
		dst = append(dst, 'f')
		return value.AppendFloat(dst, x)
	case []any:
		dst = append(dst, '[')
		for _, e := range x {
			dst = appendUniqueKey(dst, e)
			dst = append(dst, ',')
		}
		return append(dst, ']')
	case *value.Object:
		keys := x.Keys() // a new slice
		sortStrings(keys)
		dst = append(dst, '{')
		for _, k := range keys {
			e, _ := x.Get(k)
			dst = value.AppendString(dst, k)
			dst = append(dst, ':')
			dst = appendUniqueKey(dst, e)
			dst = append(dst, ',')
		}
		return append(dst, '}')
	}
	return value.Append(dst, v)
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// javaLength is the length of s in UTF-16 code units.
func javaLength(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

func evalBase64Encode(c *Call, args []any) (any, error) {
	if len(args) != 1 {
		return nil, invalid(c)
	}
	s, ok := args[0].(string)
	if !ok || len(s) > MaxStringChars && javaLength(s) > MaxStringChars {
		return nil, invalid(c)
	}
	return base64.StdEncoding.EncodeToString([]byte(s)), nil
}

func evalBase64Decode(c *Call, args []any) (any, error) {
	if len(args) != 1 {
		return nil, invalid(c)
	}
	s, ok := args[0].(string)
	if !ok || len(s) > MaxStringChars && javaLength(s) > MaxStringChars {
		return nil, invalid(c)
	}
	b := lenientBase64Decode(s)
	if utf8.Valid(b) {
		return string(b), nil
	}
	return strings.ToValidUTF8(string(b), "\uFFFD"), nil
}

// lenientBase64Decode decodes Base64 the forgiving way AWS does: characters
// outside the alphabet are skipped, decoding stops at the first '=', and a
// trailing group of 2 or 3 characters yields 1 or 2 bytes.
func lenientBase64Decode(s string) []byte {
	out := make([]byte, 0, len(s)*3/4+2)
	var acc uint32
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		var d byte
		switch {
		case c >= 'A' && c <= 'Z':
			d = c - 'A'
		case c >= 'a' && c <= 'z':
			d = c - 'a' + 26
		case c >= '0' && c <= '9':
			d = c - '0' + 52
		case c == '+' || c == '-':
			d = 62
		case c == '/' || c == '_':
			d = 63
		case c == '=':
			i = len(s)
			continue
		default:
			continue
		}
		acc = acc<<6 | uint32(d)
		n++
		if n == 4 {
			out = append(out, byte(acc>>16), byte(acc>>8), byte(acc))
			acc, n = 0, 0
		}
	}
	switch n {
	case 2:
		out = append(out, byte(acc>>4))
	case 3:
		out = append(out, byte(acc>>10), byte(acc>>2))
	}
	return out
}

func evalHash(c *Call, args []any) (any, error) {
	if len(args) != 2 {
		return nil, invalid(c)
	}
	algo, ok := args[1].(string)
	if !ok {
		return nil, invalid(c)
	}
	h, ok := digest.New(algo)
	if !ok {
		return nil, invalid(c)
	}
	var data string
	switch x := args[0].(type) {
	case string:
		data = x
	case nil:
		return nil, invalid(c)
	default:
		// A UTF-16 code unit takes at most 3 bytes of UTF-8: text longer
		// than 3*MaxStringChars bytes is refused without being built.
		if sizeExceeds(x, 3*MaxStringChars) {
			return nil, invalid(c)
		}
		data = value.String(x)
	}
	if len(data) > MaxStringChars && javaLength(data) > MaxStringChars {
		return nil, invalid(c)
	}
	h.Write([]byte(data))
	return hex.EncodeToString(h.Sum(nil)), nil
}

func evalJsonMerge(c *Call, args []any) (any, error) {
	if len(args) != 3 {
		return nil, invalid(c)
	}
	a, ok1 := args[0].(*value.Object)
	b, ok2 := args[1].(*value.Object)
	if !ok1 || !ok2 {
		return nil, invalid(c)
	}
	if deep, _ := args[2].(bool); deep {
		// AWS supports only the shallow merge.
		return nil, invalid(c)
	}
	out := a.Copy()
	for i := 0; i < b.Len(); i++ {
		k, v := b.At(i)
		out.Set(k, v)
	}
	return checked(c, out)
}

func evalMathRandom(c *Call, args []any) (any, error) {
	if len(args) != 2 && len(args) != 3 {
		return nil, invalid(c)
	}
	start, ok1 := toInt(args[0])
	end, ok2 := toInt(args[1])
	if !ok1 || !ok2 || start >= end {
		return nil, invalid(c)
	}
	bound := end - start
	if len(args) == 3 {
		seed, ok := toLong(args[2])
		if !ok {
			return nil, invalid(c)
		}
		r := newJavaRandom(seed)
		return start + r.nextInt(bound), nil
	}
	return start + mrand.Int64N(bound), nil
}

// javaRound is Java's Math.round for doubles: the closest integer, ties
// toward positive infinity.
func javaRound(f float64) float64 {
	r := math.Floor(f)
	if f-r >= 0.5 {
		r++
	}
	return r
}

func evalMathAdd(c *Call, args []any) (any, error) {
	if len(args) != 2 {
		return nil, invalid(c)
	}
	var sum int64
	for _, a := range args {
		var n int64
		switch x := a.(type) {
		case int64:
			n = x
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, invalid(c)
			}
			r := javaRound(x)
			if r < math.MinInt32 || r > math.MaxInt32 {
				return nil, invalid(c)
			}
			n = int64(r)
		default:
			return nil, invalid(c)
		}
		if n < math.MinInt32 || n > math.MaxInt32 {
			return nil, invalid(c)
		}
		sum += n
	}
	if sum < math.MinInt32 || sum > math.MaxInt32 {
		return nil, invalid(c)
	}
	return sum, nil
}

func evalStringSplit(c *Call, args []any) (any, error) {
	if len(args) != 2 {
		return nil, invalid(c)
	}
	s, ok1 := args[0].(string)
	delims, ok2 := args[1].(string)
	if !ok1 || !ok2 {
		return nil, invalid(c)
	}
	out := make([]any, 0, 4)
	start := 0
	for i, r := range s {
		if strings.ContainsRune(delims, r) {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + utf8.RuneLen(r)
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return checked(c, out)
}

func evalUUID(c *Call, args []any) (any, error) {
	if len(args) != 0 {
		return nil, invalid(c)
	}
	return uuid.New(), nil
}

// toInt converts a numeric argument to an integer the way AWS does for
// indexes, sizes, ranges and bounds: the fractional part is dropped (Java's
// intValue), and values beyond the int32 range saturate.
func toInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return clampInt32(x), true
	case float64:
		if math.IsNaN(x) {
			return 0, false
		}
		t := math.Trunc(x)
		if t > math.MaxInt32 {
			return math.MaxInt32, true
		}
		if t < math.MinInt32 {
			return math.MinInt32, true
		}
		return int64(t), true
	case *big.Int:
		if x.Sign() > 0 {
			return math.MaxInt32, true
		}
		return math.MinInt32, true
	}
	return 0, false
}

func clampInt32(n int64) int64 {
	return max(math.MinInt32, min(n, math.MaxInt32))
}

// toLong converts a seed to a 64-bit integer (fraction dropped).
func toLong(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case float64:
		if math.IsNaN(x) {
			return 0, false
		}
		if x >= math.MaxInt64 {
			return math.MaxInt64, true
		}
		if x <= math.MinInt64 {
			return math.MinInt64, true
		}
		return int64(x), true
	case *big.Int:
		return x.Int64(), true
	}
	return 0, false
}
