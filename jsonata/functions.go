package jsonata

import (
	"encoding/hex"
	"encoding/json"
	"math"
	"math/rand/v2"

	"github.com/stepwell/stepwell/internal/digest"
	"github.com/stepwell/stepwell/internal/uuid"
	"github.com/stepwell/stepwell/jsonata/internal/gnata/evaluator"
	"github.com/stepwell/stepwell/value"
)

// MaxRangeItems is the most items $range returns, as States.ArrayRange.
const MaxRangeItems = 1000

// awsFunctions are the functions AWS adds to JSONata ($random replaces
// JSONata's own, taking a seed).
var awsFunctions = map[string]evaluator.BuiltinFunction{
	"partition": fnPartition,
	"range":     fnRange,
	"hash":      fnHash,
	"random":    fnRandom,
	"uuid":      fnUUID,
	"parse":     fnParse,
}

func signatureError(fn string, arg int) error {
	return &Error{Code: "T0410", Message: "Argument " + itoa(arg) + " of function \"" + fn + "\" does not match function signature", Position: -1, Token: fn}
}

func functionError(fn, msg string) error {
	return &Error{Code: codeFunction, Message: "$" + fn + ": " + msg, Position: -1, Token: fn}
}

func itoa(i int) string { return value.String(int64(i)) }

// libNumber returns a library number as a float64.
func libNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

func libInt(v any) (int64, bool) {
	f, ok := libNumber(v)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}

// fnPartition is $partition(array, size): the array in chunks of size
// items, the last one shorter.
func fnPartition(args []any, _ any) (any, error) {
	if len(args) != 2 {
		return nil, signatureError("partition", len(args)+1)
	}
	arr, ok := args[0].([]any)
	if !ok {
		if args[0] == nil {
			return nil, signatureError("partition", 1)
		}
		arr = []any{args[0]}
	}
	size, ok := libInt(args[1])
	if !ok || size <= 0 {
		return nil, functionError("partition", "the size must be a positive integer")
	}
	out := make([]any, 0, (int64(len(arr))+size-1)/size)
	for i := int64(0); i < int64(len(arr)); i += size {
		end := min(i+size, int64(len(arr)))
		out = append(out, append([]any(nil), arr[i:end]...))
	}
	return out, nil
}

// fnRange is $range(start, end, step): the integers from start to end
// (inclusive, when a step lands on it) step apart, at most MaxRangeItems.
func fnRange(args []any, _ any) (any, error) {
	if len(args) != 3 {
		return nil, signatureError("range", len(args)+1)
	}
	first, ok1 := libInt(args[0])
	last, ok2 := libInt(args[1])
	step, ok3 := libInt(args[2])
	if !ok1 || !ok2 || !ok3 {
		return nil, functionError("range", "start, end and step must be integers")
	}
	if step == 0 {
		return nil, functionError("range", "the step must not be 0")
	}
	var n int64
	switch {
	case step > 0 && last >= first:
		n = (last-first)/step + 1
	case step < 0 && last <= first:
		n = (first-last)/(-step) + 1
	}
	if n > MaxRangeItems {
		return nil, functionError("range", "the range must not exceed "+itoa(MaxRangeItems)+" items")
	}
	out := make([]any, n)
	for i := range out {
		out[i] = float64(first + int64(i)*step)
	}
	return out, nil
}

// fnHash is $hash(string, algorithm): the hex digest of the string's UTF-8
// bytes with MD5, SHA-1, SHA-256, SHA-384 or SHA-512.
func fnHash(args []any, _ any) (any, error) {
	if len(args) != 2 {
		return nil, signatureError("hash", len(args)+1)
	}
	s, ok := args[0].(string)
	if !ok {
		return nil, signatureError("hash", 1)
	}
	algo, ok := args[1].(string)
	if !ok {
		return nil, signatureError("hash", 2)
	}
	h, ok := digest.New(algo)
	if !ok {
		return nil, functionError("hash", "the algorithm must be one of MD5, SHA-1, SHA-256, SHA-384, SHA-512")
	}
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil)), nil
}

// fnRandom is $random([seed]): a number in [0, 1); with a seed, the same
// number for the same seed (java.util.Random(seed).nextDouble()).
func fnRandom(args []any, _ any) (any, error) {
	switch len(args) {
	case 0:
		return rand.Float64(), nil
	case 1:
		f, ok := libNumber(args[0])
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, signatureError("random", 1)
		}
		return javaNextDouble(int64(f)), nil
	}
	return nil, signatureError("random", 2)
}

// javaNextDouble is new java.util.Random(seed).nextDouble().
func javaNextDouble(seed int64) float64 {
	const (
		multiplier = 0x5DEECE66D
		addend     = 0xB
		mask       = (1 << 48) - 1
	)
	s := (seed ^ multiplier) & mask
	next := func(bits uint) int64 {
		s = (s*multiplier + addend) & mask
		return int64(int32(uint64(s) >> (48 - bits)))
	}
	hi := next(26)
	lo := next(27)
	return float64(hi<<27+lo) * (1.0 / (1 << 53))
}

// fnUUID is $uuid(): a random version 4 UUID.
func fnUUID(args []any, _ any) (any, error) {
	if len(args) != 0 {
		return nil, signatureError("uuid", 1)
	}
	return uuid.New(), nil
}

// fnParse is $parse(json): the JSON value the string holds.
func fnParse(args []any, _ any) (any, error) {
	if len(args) != 1 {
		return nil, signatureError("parse", len(args)+1)
	}
	s, ok := args[0].(string)
	if !ok {
		return nil, signatureError("parse", 1)
	}
	v, err := value.ParseString(s)
	if err != nil {
		return nil, functionError("parse", "invalid JSON: "+err.Error())
	}
	return toLib(v), nil
}
