package intrinsic

import (
	"testing"

	"github.com/stepwell/stepwell/value"
)

// FuzzParse checks that Parse never panics, and that a call that parses
// evaluates without panicking on a fixed input.
func FuzzParse(f *testing.F) {
	seeds := []string{
		`States.Format('Hello {} \{x\} \\ \'', $.name, 2020)`,
		`States.StringToJson($.json)`,
		`States.JsonToString($.obj)`,
		`States.Array('a', 1, -2.5e3, null, true, false, $.arr, $$.Execution.Id, $v.x)`,
		`States.ArrayPartition($.arr, 2)`,
		`States.ArrayContains($.arr, $.obj)`,
		`States.ArrayRange(1, 9, 2)`,
		`States.ArrayGetItem($.arr, 1)`,
		`States.ArrayLength($.arr)`,
		`States.ArrayUnique($.arr)`,
		`States.Base64Encode($.name)`,
		`States.Base64Decode('aGVsbG8=')`,
		`States.Hash($.name, 'SHA-256')`,
		`States.JsonMerge($.obj, $.obj, false)`,
		`States.MathRandom(1, 10, 3)`,
		`States.MathAdd($.n, -1)`,
		`States.StringSplit($.csv, ',')`,
		`States.UUID()`,
		`States.Format($.tmpl, States.Array(States.MathAdd(1, 2)))`,
		`States.Array($['a b'], $.arr[0], $.x.['y z'])`,
		`States.Array(`,
		`States.Array('\`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	input := value.MustParse(`{"name":"Ada","json":"{\"a\":[1,2]}","obj":{"k":1,"l":[true]},` +
		`"arr":[1,2,2,"x",{"a":1},[null]],"n":41,"csv":"a,,b","tmpl":"{} and {","a b":1,"x":{"y z":2}}`)
	r := &docResolver{
		Input:   input,
		Context: value.MustParse(`{"Execution":{"Id":"arn:x","Input":{}}}`),
		Vars:    map[string]any{"v": value.MustParse(`{"x":1}`)},
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(s)
		if err != nil {
			if c != nil {
				t.Fatalf("Parse(%q) returned both a call and an error", s)
			}
			return
		}
		_ = c.String()
		_ = c.Paths()
		v, err := c.Eval(r)
		if err == nil {
			_ = value.String(v)
		}
	})
}
