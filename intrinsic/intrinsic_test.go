package intrinsic

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/jsonpath"
	"github.com/stepwell/stepwell/value"
)

// docResolver resolves $ against Input, $$ against Context and $name
// against Vars.
type docResolver struct {
	Input   any
	Context any
	Vars    map[string]any
}

var errNoVar = errors.New("no such variable")

func (r *docResolver) Resolve(p *jsonpath.Path) (any, error) {
	switch p.Root() {
	case jsonpath.RootContext:
		return p.Get(r.Context)
	case jsonpath.RootVariable:
		v, ok := r.Vars[p.VarName()]
		if !ok {
			return nil, errNoVar
		}
		return p.Get(v)
	}
	return p.Get(r.Input)
}

func eval(t *testing.T, expr string, input string) (any, error) {
	t.Helper()
	c, err := Parse(expr)
	if err != nil {
		t.Fatalf("Parse(%q): %v", expr, err)
	}
	var in any
	if input != "" {
		in = value.MustParse(input)
	}
	return c.Eval(&docResolver{Input: in, Context: value.MustParse(`{"Execution":{"Input":` + orEmpty(input) + `}}`)})
}

func orEmpty(s string) string {
	if s == "" {
		return "{}"
	}
	return s
}

func TestFunctions(t *testing.T) {
	tests := []struct {
		expr  string
		input string
		want  string // JSON of the result
	}{
		// Format
		{`States.Format('Hello, my name is {}.', $.name)`, `{"name":"Arnav"}`, `"Hello, my name is Arnav."`},
		{`States.Format('Your name is {}, we are in the year {}', $.name, 2020)`, `{"name":"Foo"}`, `"Your name is Foo, we are in the year 2020"`},
		{`States.Format('Formatting argument {}.', $.a)`, `{"a":""}`, `"Formatting argument ."`},
		{`States.Format('Formatting argument {}.', $.a)`, `{"a":null}`, `"Formatting argument null."`},
		{`States.Format('Formatting argument {}.', $.a)`, `{"a":1.1}`, `"Formatting argument 1.1."`},
		{`States.Format('{}', $.a)`, `{"a":1.0E10}`, `"1.0E10"`},
		{`States.Format('fst={} and snd={}.', $.a, $.a)`, `{"a":{"Arg1":1,"Arg2":[]}}`, `"fst={Arg1=1, Arg2=[]} and snd={Arg1=1, Arg2=[]}."`},
		{`States.Format('{}', $.a)`, `{"a":{"Id":"x","L":[1,"s",null,{"k":true}]}}`, `"{Id=x, L=[1, s, null, {k=true}]}"`},
		{`States.Format('no placeholders')`, `{}`, `"no placeholders"`},
		{`States.Format('  {}  ', 'x')`, `{}`, `"  x  "`},
		{`States.Format('Name: \'{}\', in \{braces\} and \\ slash', 'G')`, `{}`, `"Name: 'G', in {braces} and \\ slash"`},
		{`States.Format($.t, $.n)`, `{"t":"Hello {}","n":"Ada"}`, `"Hello Ada"`},
		{`States.Format('{}|{}|{}', false, -1, 9007199254740991)`, `{}`, `"false|-1|9007199254740991"`},
		{`States.Format('arn:{}:{}', 'lambda', States.JsonToString($.o))`, `{"o":{"k":1}}`, `"arn:lambda:{\"k\":1}"`},
		// StringToJson
		{`States.StringToJson($.s)`, `{"s":""}`, `null`},
		{`States.StringToJson($.s)`, `{"s":" "}`, `null`},
		{`States.StringToJson($.s)`, `{"s":"-0"}`, `0`},
		{`States.StringToJson($.s)`, `{"s":"1.1"}`, `1.1`},
		{`States.StringToJson($.s)`, `{"s":"\"HelloWorld\""}`, `"HelloWorld"`},
		{`States.StringToJson($.s)`, `{"s":"{\"Arg1\": 1, \"Arg2\": []}"}`, `{"Arg1":1,"Arg2":[]}`},
		{`States.StringToJson('{"number": 20}')`, `{}`, `{"number":20}`},
		// JsonToString
		{`States.JsonToString($.v)`, `{"v":{"name":"Foo","year":2020}}`, `"{\"name\":\"Foo\",\"year\":2020}"`},
		{`States.JsonToString($.v)`, `{"v":null}`, `"null"`},
		{`States.JsonToString($.v)`, `{"v":"HelloWorld"}`, `"\"HelloWorld\""`},
		{`States.JsonToString($.v)`, `{"v":1.1}`, `"1.1"`},
		// Array
		{`States.Array()`, `{}`, `[]`},
		{`States.Array('Foo', 2020, $.j, null, true)`, `{"j":{"a":1}}`, `["Foo",2020,{"a":1},null,true]`},
		{`States.Array( $.a , $.b )`, `{"a":1,"b":2}`, `[1,2]`},
		{`States.Array($.abc.['def ghi'], $['x,y)'])`, `{"abc":{"def ghi":1},"x,y)":2}`, `[1,2]`},
		{`States.Array($.a.length())`, `{"a":[1,2,3]}`, `[3]`},
		{`States.Array(1, States.Array(2, 3))`, `{}`, `[1,[2,3]]`},
		// ArrayPartition
		{`States.ArrayPartition($.a, 4)`, `{"a":[1,2,3,4,5,6,7,8,9]}`, `[[1,2,3,4],[5,6,7,8],[9]]`},
		{`States.ArrayPartition($.a, 1)`, `{"a":[]}`, `[]`},
		{`States.ArrayPartition($.a, 2.6)`, `{"a":[1,2,3,4,5]}`, `[[1,2],[3,4],[5]]`},
		{`States.ArrayPartition($.a, 2147483647)`, `{"a":[1,2,3]}`, `[[1,2,3]]`},
		// ArrayContains
		{`States.ArrayContains($.a, 5)`, `{"a":[1,2,3,4,5,6,7,8,9]}`, `true`},
		{`States.ArrayContains($.a, null)`, `{"a":[]}`, `false`},
		{`States.ArrayContains($.a, $.v)`, `{"a":[{"1":2,"2":[]}],"v":{"1":2,"2":[]}}`, `true`},
		{`States.ArrayContains($.a, $.v)`, `{"a":[{"1":2,"2":[]}],"v":[]}`, `false`},
		{`States.ArrayContains($.a, $.v)`, `{"a":[[1,2,3],2],"v":null}`, `false`},
		{`States.ArrayContains($.a, false)`, `{"a":[true,false]}`, `true`},
		{`States.ArrayContains($.a, false)`, `{"a":[0,1]}`, `false`},
		{`States.ArrayContains($.a, $.v)`, `{"a":[{"a":1,"b":2}],"v":{"b":2,"a":1}}`, `false`},
		{`States.ArrayContains($.a, true)`, `{"a":["true"]}`, `true`},
		// ArrayRange
		{`States.ArrayRange(1, 9, 2)`, `{}`, `[1,3,5,7,9]`},
		{`States.ArrayRange(0, 10, 3)`, `{}`, `[0,3,6,9]`},
		{`States.ArrayRange(1, 9, 9)`, `{}`, `[1]`},
		{`States.ArrayRange(5, 1, -2)`, `{}`, `[5,3,1]`},
		{`States.ArrayRange(5, 1, 1)`, `{}`, `[]`},
		{`States.ArrayRange(3, 3, -1)`, `{}`, `[3]`},
		{`States.ArrayRange(1.4, 5.6, 2.2)`, `{}`, `[1,3,5]`},
		{`States.ArrayRange(5.4, -0.6, -2.4)`, `{}`, `[5,3,1]`},
		{`States.ArrayLength(States.ArrayRange(1, 1000, 1))`, `{}`, `1000`},
		// ArrayGetItem
		{`States.ArrayGetItem($.a, 5)`, `{"a":[1,2,3,4,5,6,7,8,9]}`, `6`},
		{`States.ArrayGetItem($.a, 1.2)`, `{"a":[10,20,30]}`, `20`},
		{`States.ArrayGetItem($.a, 999)`, `{"a":[]}`, `null`},
		// ArrayLength / ArrayUnique
		{`States.ArrayLength($.a)`, `{"a":[1,2,3,4,5,6,7,8,9]}`, `9`},
		{`States.ArrayUnique($.a)`, `{"a":[1,2,3,3,3,3,3,3,4]}`, `[1,2,3,4]`},
		{`States.ArrayUnique($.a)`, `{"a":[null,null,true,true,1,1,1.0,"1",[],[],{"a":1,"b":2},{"b":2,"a":1},{"a":1,"b":1}]}`,
			`[null,true,1,1.0,"1",[],{"a":1,"b":2},{"a":1,"b":1}]`},
		// Base64
		{`States.Base64Encode($.s)`, `{"s":"Data to encode"}`, `"RGF0YSB0byBlbmNvZGU="`},
		{`States.Base64Encode('')`, `{}`, `""`},
		{`States.Base64Encode('🚀')`, `{}`, `"8J+agA=="`},
		{`States.Base64Decode($.s)`, `{"s":"RGF0YSB0byBlbmNvZGU="}`, `"Data to encode"`},
		{`States.Base64Decode('')`, `{}`, `""`},
		{`States.Base64Decode('4pyT')`, `{}`, `"✓"`},
		{`States.Base64Decode(' YWJjZA== ')`, `{}`, `"abcd"`},
		{`States.Base64Decode('YWJjAGRlZg==')`, `{}`, `"abc\u0000def"`},
		{`States.Base64Decode('abc')`, `{}`, "\"i\uFFFD\""},
		// Hash
		{`States.Hash($.d, 'MD5')`, `{"d":"input data"}`, `"812f45842bc6d66ee14572ce20db8e86"`},
		{`States.Hash($.d, 'SHA-1')`, `{"d":"input data"}`, `"aaff4a450a104cd177d28d18d74485e8cae074b7"`},
		{`States.Hash($.d, 'SHA-256')`, `{"d":"input data"}`, `"b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3"`},
		{`States.Hash($.d, 'SHA-384')`, `{"d":"input data"}`, `"d28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c756511b87525bdc835ebb27e1fb9e9374a15562"`},
		{`States.Hash($.d, 'SHA-512')`, `{"d":"input data"}`, `"6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f47d4ce2deba23bf2954f0f1d593fc50283731a533d30d425402d4f91316d871303aac4"`},
		{`States.Hash('Hash this string', 'SHA-256')`, `{}`, `"1cac63f39fd68d8c531f27b807610fb3d50f0fc3f186995767fb6316e7200a3e"`},
		// JsonMerge
		{`States.JsonMerge($.a, $.b, false)`, `{"a":{"a":{"a1":1,"a2":2},"b":2},"b":{"a":{"a3":1,"a4":2},"c":3}}`, `{"a":{"a3":1,"a4":2},"b":2,"c":3}`},
		{`States.JsonMerge(States.StringToJson('{"constant_in_literal": "false"}'), $$.Execution.Input.f, false)`, `{"f":{"x":"y"}}`, `{"constant_in_literal":"false","x":"y"}`},
		{`States.JsonMerge($.a, $.b, 'false')`, `{"a":{},"b":{}}`, `{}`},
		// MathAdd
		{`States.MathAdd(111, -1)`, `{}`, `110`},
		{`States.MathAdd(-9, 3)`, `{}`, `-6`},
		{`States.MathAdd($.a, $.b)`, `{"a":-1.5,"b":0}`, `-1`},
		{`States.MathAdd($.a, $.b)`, `{"a":-1.51,"b":0}`, `-2`},
		{`States.MathAdd($.a, $.b)`, `{"a":0.5,"b":0}`, `1`},
		{`States.MathAdd($.a, $.b)`, `{"a":-2.5,"b":0}`, `-2`},
		{`States.MathAdd($.a, $.b)`, `{"a":1.5,"b":1.51}`, `4`},
		{`States.MathAdd($.a, $.b)`, `{"a":-1.49,"b":-1.5}`, `-2`},
		{`States.MathAdd($.a, $.b)`, `{"a":-0.5,"b":0.5}`, `1`},
		{`States.MathAdd(2147483646, 1)`, `{}`, `2147483647`},
		{`States.MathAdd(0.49999999999999994, 0)`, `{}`, `0`},
		{`States.MathAdd(1.6, 2.7)`, `{}`, `5`},
		{`States.MathAdd(-2147483647, -1)`, `{}`, `-2147483648`},
		// StringSplit
		{`States.StringSplit($.s, ',')`, `{"s":"1,2,3,4,5"}`, `["1","2","3","4","5"]`},
		{`States.StringSplit($.s, '.+,=')`, `{"s":"This.is+a,test=string"}`, `["This","is","a","test","string"]`},
		{`States.StringSplit($.s, ',')`, `{"s":" , "}`, `[" "," "]`},
		{`States.StringSplit($.s, ',')`, `{"s":", , ,"}`, `[" "," "]`},
		{`States.StringSplit($.s, ',')`, `{"s":",,,,"}`, `[]`},
		{`States.StringSplit($.s, ',')`, `{"s":""}`, `[]`},
		{`States.StringSplit($.s, '')`, `{"s":"abc"}`, `["abc"]`},
		{"States.StringSplit('Hello\nWorld', '\n')", `{}`, `["Hello","World"]`},
		{`States.StringSplit($.s, 'é')`, `{"s":"aébéc"}`, `["a","b","c"]`},
		// nesting
		{`States.ArrayGetItem(States.StringSplit($$.Execution.Input.n, '-'), States.MathAdd(States.ArrayLength(States.StringSplit($$.Execution.Input.n, '-')), -1))`, `{"n":"a-b-c"}`, `"c"`},
	}
	for _, tt := range tests {
		got, err := eval(t, tt.expr, tt.input)
		if err != nil {
			t.Errorf("%s on %s: %v", tt.expr, tt.input, err)
			continue
		}
		if s := value.String(got); s != tt.want {
			t.Errorf("%s on %s = %s, want %s", tt.expr, tt.input, s, tt.want)
		}
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		expr  string
		input string
		fn    string
	}{
		{`States.Format('{} {}', 'x')`, `{}`, "States.Format"},
		{`States.Format('{}', 'x', 'y')`, `{}`, "States.Format"},
		{`States.Format($.t, 'x')`, `{"t":123}`, "States.Format"},
		{`States.Format('Hello {', 'x')`, `{}`, "States.Format"},
		{`States.Format('Hello {{}}', 'x')`, `{}`, "States.Format"},
		{`States.Format('}')`, `{}`, "States.Format"},
		{`States.Format($.t)`, `{"t":"a}"}`, "States.Format"},
		{`States.Format()`, `{}`, "States.Format"},
		{`States.StringToJson($.s)`, `{"s":"{bad"}`, "States.StringToJson"},
		{`States.StringToJson(1)`, `{}`, "States.StringToJson"},
		{`States.JsonToString()`, `{}`, "States.JsonToString"},
		{`States.ArrayPartition('not-array', 2)`, `{}`, "States.ArrayPartition"},
		{`States.ArrayPartition($.a, 0.49)`, `{"a":[1]}`, "States.ArrayPartition"},
		{`States.ArrayPartition($.a, 0.6)`, `{"a":[1]}`, "States.ArrayPartition"},
		{`States.ArrayPartition($.a, -0.6)`, `{"a":[1]}`, "States.ArrayPartition"},
		{`States.ArrayPartition($.a, '2')`, `{"a":[1]}`, "States.ArrayPartition"},
		{`States.ArrayPartition($.a, null)`, `{"a":[1]}`, "States.ArrayPartition"},
		{`States.ArrayPartition($.a)`, `{"a":[1]}`, "States.ArrayPartition"},
		{`States.ArrayPartition($.a, 2, 999)`, `{"a":[1]}`, "States.ArrayPartition"},
		{`States.ArrayContains('x', 'x')`, `{}`, "States.ArrayContains"},
		{`States.ArrayContains($.a)`, `{"a":[]}`, "States.ArrayContains"},
		{`States.ArrayRange('a', 5, 1)`, `{}`, "States.ArrayRange"},
		{`States.ArrayRange(1, 10, 0)`, `{}`, "States.ArrayRange"},
		{`States.ArrayRange(1, 10, 0.49)`, `{}`, "States.ArrayRange"},
		{`States.ArrayRange(1, 1001, 1)`, `{}`, "States.ArrayRange"},
		{`States.ArrayRange(1001, 1, -1)`, `{}`, "States.ArrayRange"},
		{`States.ArrayRange(1, 5)`, `{}`, "States.ArrayRange"},
		{`States.ArrayGetItem('x', 0)`, `{}`, "States.ArrayGetItem"},
		{`States.ArrayGetItem($.a, 3)`, `{"a":[1,2,3]}`, "States.ArrayGetItem"},
		{`States.ArrayGetItem($.a, -1)`, `{"a":[1,2,3]}`, "States.ArrayGetItem"},
		{`States.ArrayGetItem($.a, '1')`, `{"a":[1,2,3]}`, "States.ArrayGetItem"},
		{`States.ArrayLength('x')`, `{}`, "States.ArrayLength"},
		{`States.ArrayLength($.o)`, `{"o":{}}`, "States.ArrayLength"},
		{`States.ArrayUnique(1)`, `{}`, "States.ArrayUnique"},
		{`States.Base64Encode(123)`, `{}`, "States.Base64Encode"},
		{`States.Base64Encode($.a)`, `{"a":["x"]}`, "States.Base64Encode"},
		{`States.Base64Encode($.s)`, `{"s":"` + strings.Repeat("a", 10001) + `"}`, "States.Base64Encode"},
		{`States.Base64Decode(123)`, `{}`, "States.Base64Decode"},
		{`States.Base64Decode($.s)`, `{"s":"` + strings.Repeat("A", 10001) + `"}`, "States.Base64Decode"},
		{`States.Base64Decode('a', 'b')`, `{}`, "States.Base64Decode"},
		{`States.Hash('hello', 123)`, `{}`, "States.Hash"},
		{`States.Hash('hello')`, `{}`, "States.Hash"},
		{`States.Hash()`, `{}`, "States.Hash"},
		{`States.Hash('data', 'sha-256')`, `{}`, "States.Hash"},
		{`States.Hash('data', 'SHA256')`, `{}`, "States.Hash"},
		{`States.Hash('data', 'MD-5')`, `{}`, "States.Hash"},
		{`States.Hash('data', '')`, `{}`, "States.Hash"},
		{`States.Hash('hello', 'SHA-256', 'extra')`, `{}`, "States.Hash"},
		{`States.Hash($.s, 'SHA-256')`, `{"s":"` + strings.Repeat("a", 10001) + `"}`, "States.Hash"},
		{`States.JsonMerge($.a, $.b, true)`, `{"a":{},"b":{}}`, "States.JsonMerge"},
		{`States.JsonMerge($.a, $.b, false)`, `{"a":null,"b":{}}`, "States.JsonMerge"},
		{`States.JsonMerge($.a, $.b, false)`, `{"a":{},"b":[]}`, "States.JsonMerge"},
		{`States.JsonMerge($.a, $.b)`, `{"a":{},"b":{}}`, "States.JsonMerge"},
		{`States.MathRandom(1, 1)`, `{}`, "States.MathRandom"},
		{`States.MathRandom(10, 5)`, `{}`, "States.MathRandom"},
		{`States.MathRandom(1.4, 1.6)`, `{}`, "States.MathRandom"},
		{`States.MathRandom('a', 10)`, `{}`, "States.MathRandom"},
		{`States.MathRandom(1, 10, 'seed')`, `{}`, "States.MathRandom"},
		{`States.MathRandom(1, 10, null)`, `{}`, "States.MathRandom"},
		{`States.MathRandom(1)`, `{}`, "States.MathRandom"},
		{`States.MathRandom(1, 10, 5, 99)`, `{}`, "States.MathRandom"},
		{`States.MathAdd(2147483647, 1)`, `{}`, "States.MathAdd"},
		{`States.MathAdd(-2147483648, -1)`, `{}`, "States.MathAdd"},
		{`States.MathAdd(3000000000, 1)`, `{}`, "States.MathAdd"},
		{`States.MathAdd('a', 1)`, `{}`, "States.MathAdd"},
		{`States.MathAdd(null, 1)`, `{}`, "States.MathAdd"},
		{`States.MathAdd(true, 1)`, `{}`, "States.MathAdd"},
		{`States.MathAdd('-1', 2)`, `{}`, "States.MathAdd"},
		{`States.MathAdd(1)`, `{}`, "States.MathAdd"},
		{`States.MathAdd(-1, $.p)`, `{"p":[1]}`, "States.MathAdd"},
		{`States.MathAdd(1e400, 1)`, `{}`, "States.MathAdd"},
		{`States.StringSplit($.s, ',')`, `{"s":123}`, "States.StringSplit"},
		{`States.StringSplit($.s, $.d)`, `{"s":"a,b","d":null}`, "States.StringSplit"},
		{`States.StringSplit($.s, $.d)`, `{"s":"a,b","d":[","]}`, "States.StringSplit"},
		{`States.UUID(1)`, `{}`, "States.UUID"},
	}
	for _, tt := range tests {
		got, err := eval(t, tt.expr, tt.input)
		var fe *fault.Error
		if !errors.As(err, &fe) {
			t.Errorf("%s on %s = %v, %v; want a fault", tt.expr, tt.input, value.String(got), err)
			continue
		}
		if fe.Name != fault.Runtime || fe.Cause != "Invalid arguments in "+tt.fn || !fe.HasCause {
			t.Errorf("%s: error %q / %q, want States.Runtime / Invalid arguments in %s", tt.expr, fe.Name, fe.Cause, tt.fn)
		}
	}
}

func TestResolverErrorPassesThrough(t *testing.T) {
	c, err := Parse(`States.Format('{}', States.Array($.missing))`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Eval(&docResolver{Input: value.MustParse(`{}`)})
	var nf *jsonpath.NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("err = %v, want the resolver's NotFoundError", err)
	}
	c, _ = Parse(`States.Array($nope)`)
	if _, err := c.Eval(&docResolver{}); err != errNoVar {
		t.Fatalf("err = %v, want errNoVar", err)
	}
}

func TestVariablesAndContext(t *testing.T) {
	c, err := Parse(`States.Format($tmpl, $$.Map.Item.Value, $v.x)`)
	if err != nil {
		t.Fatal(err)
	}
	r := &docResolver{
		Context: value.MustParse(`{"Map":{"Item":{"Value":"Pikachu"}}}`),
		Vars:    map[string]any{"tmpl": "{} says {}", "v": value.MustParse(`{"x":"hi"}`)},
	}
	got, err := c.Eval(r)
	if err != nil || got != "Pikachu says hi" {
		t.Fatalf("got %v, %v", got, err)
	}
	var ps []string
	for _, p := range c.Paths() {
		ps = append(ps, p.String())
	}
	if strings.Join(ps, " ") != "$tmpl $$.Map.Item.Value $v.x" {
		t.Fatalf("Paths() = %v", ps)
	}
}

func TestMathRandom(t *testing.T) {
	for _, expr := range []string{`States.MathRandom(1, 999)`, `States.MathRandom(-99999, -9999)`, `States.MathRandom(1.6, 5.4)`, `States.MathRandom(2147483640, 2147483647, 1)`} {
		c, err := Parse(expr)
		if err != nil {
			t.Fatal(err)
		}
		lo, _ := toInt(c.args[0].lit)
		hi, _ := toInt(c.args[1].lit)
		for range 200 {
			v, err := c.Eval(&docResolver{})
			if err != nil {
				t.Fatalf("%s: %v", expr, err)
			}
			n, ok := v.(int64)
			if !ok || n < lo || n >= hi {
				t.Fatalf("%s = %v, want an integer in [%d, %d)", expr, v, lo, hi)
			}
		}
	}
	// A seed gives the same number every time.
	a, _ := eval(t, `States.MathRandom(1, 100, 42)`, `{}`)
	b, _ := eval(t, `States.MathRandom(1, 100, 42)`, `{}`)
	if a != b {
		t.Fatalf("seeded results differ: %v %v", a, b)
	}
	// Reference values of java.util.Random: new Random(0).nextInt() and
	// new Random(42).nextInt().
	if got := newJavaRandom(0).next(32); got != -1155484576 {
		t.Errorf("Random(0).nextInt() = %d, want -1155484576", got)
	}
	if got := newJavaRandom(42).next(32); got != -1170105035 {
		t.Errorf("Random(42).nextInt() = %d, want -1170105035", got)
	}
	// new Random(seed).nextInt(bound), computed with Java 21.
	for _, tc := range []struct{ seed, bound, want int64 }{
		{42, 100, 30}, {1, 1000, 985}, {123, 16, 11}, {-10, 9, 0}, {3, 999, 239},
	} {
		if got := newJavaRandom(tc.seed).nextInt(tc.bound); got != tc.want {
			t.Errorf("Random(%d).nextInt(%d) = %d, want %d", tc.seed, tc.bound, got, tc.want)
		}
	}
	if got, _ := eval(t, `States.MathRandom(1, 1000, 3)`, `{}`); got != int64(240) {
		t.Errorf("MathRandom(1, 1000, 3) = %v, want 240", got)
	}
}

func TestUUID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, err := eval(t, `States.UUID()`, `{}`)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := eval(t, `States.UUID()`, `{}`)
	if !re.MatchString(a.(string)) || a == b {
		t.Fatalf("UUIDs %v %v", a, b)
	}
}

func TestParseErrors(t *testing.T) {
	bad := []string{
		``,
		`States`,
		`States.Unknown()`,
		`States.format('x')`,
		`States.Array(`,
		`States.Array($.a) trailing`,
		`States.Array([1,2])`,
		`States.Array(1.)`,
		`States.Array(.5)`,
		`States.Array('unterminated)`,
		`States.Array('bad \n escape')`,
		`States.Array(1,)`,
		`States.Array(,1)`,
		`States.Array(nul)`,
		`States.Array(abc)`,
		`States.Array(1 2)`,
		`States.Array(` + strings.Repeat(`States.Array(`, 10) + `1` + strings.Repeat(`)`, 11),
		`$.a`,
		`States.Array(foo)`,
	}
	for _, s := range bad {
		if c, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", s, c)
		}
	}
	good := []string{
		`States.Array(` + strings.Repeat(`States.Array(`, 9) + `1` + strings.Repeat(`)`, 10),
		`  States.UUID()  `,
		`States.Array($.a['b c'], $['x,y'], $$.Execution.Id, $var, $)`,
		`States.ArrayGetItem($.a, )`[:0] + `States.ArrayLength($)`,
		`States.Format('\\\{\}\'')`,
	}
	for _, s := range good {
		if _, err := Parse(s); err != nil {
			t.Errorf("Parse(%q): %v", s, err)
		}
	}
}

func TestIsIntrinsic(t *testing.T) {
	for s, want := range map[string]bool{
		"States.Array()":   true,
		"  States.UUID()":  true,
		"$.States.x":       false,
		"states.Array()":   false,
		"":                 false,
		"\tStates.Format(": true,
	} {
		if got := IsIntrinsic(s); got != want {
			t.Errorf("IsIntrinsic(%q) = %v", s, got)
		}
	}
}

func TestString(t *testing.T) {
	c, err := Parse(`  States.Format('a {}', $.b)  `)
	if err != nil {
		t.Fatal(err)
	}
	if c.String() != `States.Format('a {}', $.b)` || c.Name() != "States.Format" {
		t.Fatalf("String() = %q, Name() = %q", c.String(), c.Name())
	}
	if len(Names()) != 18 {
		t.Fatalf("Names() has %d functions", len(Names()))
	}
}

func BenchmarkEvalFormat(b *testing.B) {
	c, _ := Parse(`States.Format('Hello {}, you are {}', $.name, States.MathAdd($.age, 1))`)
	r := &docResolver{Input: value.MustParse(`{"name":"Ada","age":36}`)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Eval(r); err != nil {
			b.Fatal(err)
		}
	}
}
