package value_test

import (
	"encoding/json"
	"math/big"
	"strconv"
	"testing"

	"github.com/stepwell/stepwell/value"
)

func TestRoundTrip(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"b":1,"a":2}`, `{"b":1,"a":2}`},
		{` { "x" : [1, 2.5, -0.0, 1e2, "s\u00e9\n"] } `, `{"x":[1,2.5,-0.0,100.0,"sé\n"]}`},
		{`12345678901234567890123`, `12345678901234567890123`},
		{`-9223372036854775808`, `-9223372036854775808`},
		{`1.0E10`, `1.0E10`},
		{`0.00001`, `1.0E-5`},
		{`1234567.5`, `1234567.5`},
		{`12345678.5`, `1.23456785E7`},
		{`"\ud83d\ude00 <&>"`, `"😀 <&>"`},
		{`[true,false,null,{}]`, `[true,false,null,{}]`},
		{`[1e400,-1e400]`, `["Infinity","-Infinity"]`},
		{"\"\xfe\"", "\"\ufffd\""},
		{`{"a":1,"a":2}`, `{"a":2}`},
	}
	for _, tt := range tests {
		v, err := value.ParseString(tt.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.in, err)
		}
		if got := value.String(v); got != tt.want {
			t.Errorf("round trip %q = %s, want %s", tt.in, got, tt.want)
		}
		// Parse copies what ParseString shares: the same value.
		v, err = value.Parse([]byte(tt.in))
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.in, err)
		}
		if got := value.String(v); got != tt.want {
			t.Errorf("round trip of bytes %q = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestParse_Errors(t *testing.T) {
	tests := []struct {
		in        string
		line, col int
	}{
		{`{"a":}`, 1, 6},
		{"{\n  \"a\": 1,\n  x}", 3, 3},
		{`[1,2`, 1, 5},
		{`01`, 1, 2},
		{`"abc`, 1, 5},
		{`1 2`, 1, 3},
		{``, 1, 1},
	}
	for _, tt := range tests {
		_, err := value.ParseString(tt.in)
		se, ok := err.(*value.SyntaxError)
		if !ok {
			t.Fatalf("Parse(%q) = %v, want *SyntaxError", tt.in, err)
		}
		if se.Line != tt.line || se.Column != tt.col {
			t.Errorf("Parse(%q) at %d:%d, want %d:%d (%v)", tt.in, se.Line, se.Column, tt.line, tt.col, err)
		}
	}
}

func TestNumbers(t *testing.T) {
	v := value.MustParse(`[1, 1.0, 99999999999999999999]`).([]any)
	if _, ok := v[0].(int64); !ok {
		t.Errorf("1 is %T", v[0])
	}
	if _, ok := v[1].(float64); !ok {
		t.Errorf("1.0 is %T", v[1])
	}
	if _, ok := v[2].(*big.Int); !ok {
		t.Errorf("big is %T", v[2])
	}
	if !value.Equal(v[0], v[1]) || value.Equal(v[0], v[2]) {
		t.Error("Equal on numbers")
	}
	if value.Compare(v[2], v[0]) != 1 {
		t.Error("Compare big")
	}
}

// TestNumbers_InPlace checks that a parsed number holds nothing of the
// text it was read from (the parser reads number text in place) and that
// reading it allocates nothing but the number's own value.
func TestNumbers_InPlace(t *testing.T) {
	tests := []struct {
		in     string
		allocs float64 // ParseString's, with the object holding it
	}{
		{`{"n":7}`, 1},
		{`{"n":12}`, 1},
		{`{"n":255}`, 1},
		{`{"n":-1}`, 2},                              // an int64 not in 0…255 is boxed
		{`{"n":1234567}`, 2},                         //
		{`{"n":-9223372036854775808}`, 2},            // through strconv.ParseInt
		{`{"n":2.5E-7}`, 2},                          // a boxed float64
		{`{"n":123456789012345678901234567890}`, -1}, // a *big.Int: not counted
	}
	for _, tt := range tests {
		data := []byte(tt.in)
		v, err := value.Parse(data)
		if err != nil {
			t.Fatalf("Parse(%s): %v", tt.in, err)
		}
		for i := range data {
			data[i] = '9'
		}
		if got := value.String(v); got != tt.in {
			t.Errorf("Parse(%s) after its text changed: %s", tt.in, got)
		}
		if tt.allocs < 0 {
			continue
		}
		if n := testing.AllocsPerRun(100, func() { _, _ = value.ParseString(tt.in) }); n != tt.allocs {
			t.Errorf("ParseString(%s): %v allocations, want %v", tt.in, n, tt.allocs)
		}
	}
}

func TestObjectOrderAndIndex(t *testing.T) {
	o := value.NewObject(0)
	for i := 0; i < 40; i++ {
		o.Set(string(rune('a'+i%26))+string(rune('a'+i/26)), int64(i))
	}
	if v, _ := o.Get("cb"); v != int64(28) {
		t.Errorf("Get(cb) = %v", v)
	}
	c := o.With("aa", "x")
	if v, _ := o.Get("aa"); v != int64(0) {
		t.Error("With mutated the original")
	}
	if c.Keys()[0] != "aa" || c.Len() != 40 {
		t.Error("With changed order")
	}
	c.Delete("ba")
	if c.Has("ba") || c.Len() != 39 {
		t.Error("Delete")
	}
	if v, ok := c.Get("bb"); !ok || v != int64(27) {
		t.Errorf("Get after delete = %v", v)
	}
}

func TestObject_SetWithin(t *testing.T) {
	build := func(room int, keys ...string) *value.Object {
		o := value.NewObject(len(keys) + room)
		for i, k := range keys {
			o.Set(k, int64(i))
		}
		return o
	}
	many := make([]string, 11)
	for i := range many {
		many[i] = string(rune('a' + i))
	}
	tests := []struct {
		name string
		o    *value.Object
		k    string
		ok   bool
		want string // the object after the call
	}{
		{"present, no room", build(0, "a", "b"), "a", true, `{"a":"v","b":1}`},
		{"absent, room", build(1, "a", "b"), "c", true, `{"a":0,"b":1,"c":"v"}`},
		{"absent, no room", build(0, "a", "b"), "c", false, `{"a":0,"b":1}`},
		{"empty, no room", value.NewObject(0), "a", false, `{}`},
		{"empty, room", value.NewObject(1), "a", true, `{"a":"v"}`},
		{"index threshold", build(1, many...), "z", false, `{"a":0,"b":1,"c":2,"d":3,"e":4,"f":5,"g":6,"h":7,"i":8,"j":9,"k":10}`},
		{"indexed, present", build(0, append(many, "l", "m")...), "m", true, `{"a":0,"b":1,"c":2,"d":3,"e":4,"f":5,"g":6,"h":7,"i":8,"j":9,"k":10,"l":11,"m":"v"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ok := tt.o.SetWithin(tt.k, "v"); ok != tt.ok {
				t.Errorf("SetWithin = %v, want %v", ok, tt.ok)
			}
			if got := value.String(tt.o); got != tt.want {
				t.Errorf("object = %s, want %s", got, tt.want)
			}
			if v, ok := tt.o.Get(tt.k); ok != tt.ok || (ok && v != "v") {
				t.Errorf("Get(%q) = %v, %v", tt.k, v, ok)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5,"x",null,true]}`, `"\u00e9"`, `-1e-7`, `[[[]]]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := value.ParseString(s)
		if err != nil {
			return
		}
		out := value.Marshal(v)
		v2, err := value.Parse(out)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		// Marshal output is a fixed point: parsing and marshalling it again
		// gives the same text (non-finite numbers become strings once).
		if out2 := value.Marshal(v2); string(out2) != string(out) {
			t.Fatalf("round trip changed %s into %s", out, out2)
		}
	})
}

func TestObject_ConcurrentReads(t *testing.T) {
	o := value.NewObject(0)
	for i := 0; i < 30; i++ {
		o.Set(string(rune('A'+i)), int64(i))
	}
	c := o.Copy()
	done := make(chan bool)
	for g := 0; g < 4; g++ {
		go func() {
			for i := 0; i < 30; i++ {
				if v, _ := c.Get(string(rune('A' + i))); v != int64(i) {
					t.Errorf("Get = %v", v)
				}
			}
			done <- true
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}

// BenchmarkString encodes a state's small input, as the engine does for
// every StateEntered and StateExited event.
func BenchmarkString(b *testing.B) {
	for _, tt := range []struct{ name, in string }{
		{"small", `{"hello":"world","n":1}`},
		{"medium", `{"order":{"id":"o-123456","items":[{"sku":"a1","qty":2,"price":9.99},{"sku":"b2","qty":1,"price":19.5}],"customer":{"name":"Jane Doe","email":"jane@example.com"}},"status":"NEW","attempt":3}`},
	} {
		v, err := value.ParseString(tt.in)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if value.String(v) == "" {
					b.Fatal("empty")
				}
			}
		})
	}
}

// BenchmarkParseString parses an execution's input, as the engine does at
// every start.
func BenchmarkParseString(b *testing.B) {
	for _, tt := range []struct{ name, in string }{
		{"small", `{"hello":"world","n":1}`},
		{"medium", `{"order":{"id":"o-123456","items":[{"sku":"a1","qty":2,"price":9.99},{"sku":"b2","qty":1,"price":19.5}],"customer":{"name":"Jane Doe","email":"jane@example.com"}},"status":"NEW","attempt":3}`},
	} {
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := value.ParseString(tt.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestSizeWithin checks that SizeWithin counts what Append writes, and
// stops at the limit.
func TestSizeWithin(t *testing.T) {
	for _, src := range []string{
		`null`, `true`, `false`, `0`, `-12`, `1.5`, `1e300`, `123456789012345678901234567890`,
		`"a\"b\\c\nd\re\tf\bg\fh\u0001i\u001fj"`, `[]`, `{}`, `[1,"x",{"a":[null,{"b":"c"}]}]`,
		`{"k\"ey":"v"}`,
	} {
		v := value.MustParse(src)
		want := len(value.Append(nil, v))
		n := 0
		if !value.SizeWithin(v, &n, want) || n != want {
			t.Errorf("SizeWithin(%s) = %d, want %d", src, n, want)
		}
		n = 0
		if want > 4 && value.SizeWithin(v, &n, want-1) {
			t.Errorf("SizeWithin(%s) within %d", src, want-1)
		}
	}
}

// TestStringPtr checks StringPtr's text against String's at each boxed
// size's edges and beyond, and that a box's text stays as it was while
// later ones are built.
func TestStringPtr(t *testing.T) {
	var kept []*string
	var want []string
	for _, n := range []int{0, 1, 14, 15, 16, 17, 46, 47, 48, 49, 110, 111, 112, 113, 238, 239, 240, 241, 5000} {
		v := any(nil)
		if n >= 2 { // a string of n-2 bytes and its quotes
			s := make([]byte, n-2)
			for i := range s {
				s[i] = 'a' + byte(i%26)
			}
			v = string(s)
		}
		p := value.StringPtr(v)
		w := value.String(v)
		if *p != w {
			t.Errorf("StringPtr of %d bytes = %q, want %q", len(w), *p, w)
		}
		kept, want = append(kept, p), append(want, w)
	}
	for i, p := range kept {
		if *p != want[i] {
			t.Errorf("text %d changed: %q, want %q", i, *p, want[i])
		}
	}
	o := value.MustParse(`{"n":5,"tag":"x","size":"big"}`)
	if got := *value.StringPtr(o); got != `{"n":5,"tag":"x","size":"big"}` {
		t.Errorf("StringPtr(object) = %s", got)
	}
}

// TestParse_Strings checks strings read without escapes, ASCII or not
// (ASCII needs no UTF-8 check), and an object's members of every type
// written back.
func TestParse_Strings(t *testing.T) {
	tests := []struct{ in, want string }{
		{`"abc"`, `"abc"`},
		{`"é日本"`, `"é日本"`},
		{"\"a\xffb\"", "\"a\uFFFDb\""},
		{"\"\xc3\"", "\"\uFFFD\""},
		{"\"ok\x7f\"", "\"ok\x7f\""},
		{`{"k":"é","i":-12,"f":1.5,"b":true,"n":null,"a":[1,"x"],"o":{"z":"\u0001"},"big":123456789012345678901234567890}`,
			`{"k":"é","i":-12,"f":1.5,"b":true,"n":null,"a":[1,"x"],"o":{"z":"\u0001"},"big":123456789012345678901234567890}`},
	}
	for _, tt := range tests {
		for _, parse := range []func(string) (any, error){
			value.ParseString,
			func(s string) (any, error) { return value.Parse([]byte(s)) },
		} {
			v, err := parse(tt.in)
			if err != nil {
				t.Fatalf("%q: %v", tt.in, err)
			}
			if got := value.String(v); got != tt.want {
				t.Errorf("%q: %q, want %q", tt.in, got, tt.want)
			}
		}
	}
}

// TestObject_Members builds objects of each size NewObject has a layout
// for (and beyond, where lookups use the index), then reads, copies and
// deletes their members.
func TestObject_Members(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 20} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			o := value.NewObject(n)
			want := make([]string, n)
			for i := range want {
				want[i] = "k" + strconv.Itoa(i)
				o.Set(want[i], int64(i))
			}
			if n > 0 {
				o.Set("k0", int64(0)) // a present key keeps its place
			}
			if o.Len() != n {
				t.Fatalf("Len = %d, want %d", o.Len(), n)
			}
			keys := o.Keys()
			if len(keys) != n {
				t.Fatalf("Keys = %q, want %q", keys, want)
			}
			for i, k := range want {
				if keys[i] != k {
					t.Fatalf("Keys = %q, want %q", keys, want)
				}
				if ak, av := o.At(i); ak != k || av != int64(i) {
					t.Fatalf("At(%d) = %q, %v", i, ak, av)
				}
				if v, ok := o.Get(k); !ok || v != int64(i) {
					t.Fatalf("Get(%q) = %v, %v", k, v, ok)
				}
			}
			if n > 0 {
				keys[0] = "changed" // Keys is a slice of the caller's
				if k, _ := o.At(0); k != "k0" {
					t.Fatalf("after changing Keys' slice, At(0) = %q", k)
				}
			}
			c := o.With("new", true)
			if c.Len() != n+1 || o.Len() != n || o.Has("new") {
				t.Fatalf("With: copy has %d members, original %d", c.Len(), o.Len())
			}
			if n == 0 {
				return
			}
			mid := want[n/2]
			c.Delete(mid)
			if c.Has(mid) || c.Len() != n || !o.Has(mid) {
				t.Fatalf("Delete(%q): copy %s, original %s", mid, value.String(c), value.String(o))
			}
			for i := 0; i < c.Len(); i++ {
				k, _ := c.At(i)
				if v, ok := c.Get(k); !ok || !value.Equal(v, mustGet(o, c, k)) {
					t.Fatalf("after Delete, Get(%q) = %v, %v", k, v, ok)
				}
			}
			if !value.Equal(value.DeepCopy(o), o) {
				t.Fatalf("DeepCopy(%s) differs", value.String(o))
			}
		})
	}
}

// mustGet is k's value in o, or in c for the member only c has.
func mustGet(o, c *value.Object, k string) any {
	if v, ok := o.Get(k); ok {
		return v
	}
	v, _ := c.Get(k)
	return v
}

// FuzzParse_OnlyValidJSON: ParseString accepts no text that json.Valid
// (what the API checks an execution's input with) refuses, so a value
// parsed while checking an input can stand for the check.
func FuzzParse_OnlyValidJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5,"x",null,true]}`, `"\u00e9"`, `-1e-7`, `[[[]]]`, "\"\xff\"", `{"a":1,"a":2}`, `01`, `1.`, `"\ud800"`, ` {} `, `{}x`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := value.ParseString(s); err == nil && !json.Valid([]byte(s)) {
			t.Fatalf("ParseString accepts %q, json.Valid does not", s)
		}
	})
}
