package asl

import (
	"math"
	"os"
	"testing"

	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/value"
)

type mapVars map[string]any

func (m mapVars) Var(name string) (any, bool) { v, ok := m[name]; return v, ok }

func loadTemplate(t *testing.T, tmpl string) *Template {
	t.Helper()
	def := `{"StartAt":"S","States":{"S":{"Type":"Pass","Parameters":` + tmpl + `,"End":true}}}`
	sm, err := Load([]byte(def), Options{})
	if err != nil {
		t.Fatalf("load %s: %v", tmpl, err)
	}
	return sm.States["S"].Parameters
}

func TestTemplateEval(t *testing.T) {
	env := &Env{
		Input:          value.MustParse(`{"a":1,"b":{"c":[1,2,3]},"s":"x y"}`),
		Context:        value.MustParse(`{"Execution":{"Name":"e1","Input":{"k":"v"}}}`),
		Vars:           mapVars{"v": value.MustParse(`{"n":42}`), "w": "str"},
		StateName:      "S",
		EnteredEventID: 2,
	}
	tests := []struct {
		name, tmpl, want string
	}{
		{"literal", `{"x":1,"y":[true,null,"$.a"]}`, `{"x":1,"y":[true,null,"$.a"]}`},
		{"path", `{"x.$":"$.a","y":"z"}`, `{"x":1,"y":"z"}`},
		{"whole input", `{"all.$":"$"}`, `{"all":{"a":1,"b":{"c":[1,2,3]},"s":"x y"}}`},
		{"nested", `{"o":{"p.$":"$.b.c[1]"},"arr":[{"q.$":"$.s"}]}`, `{"o":{"p":2},"arr":[{"q":"x y"}]}`},
		{"context", `{"n.$":"$$.Execution.Name"}`, `{"n":"e1"}`},
		{"variable", `{"n.$":"$v.n","w.$":"$w"}`, `{"n":42,"w":"str"}`},
		{"indefinite", `{"all.$":"$.b.c[*]"}`, `{"all":[1,2,3]}`},
		{"intrinsic", `{"f.$":"States.Format('{}-{}', $.a, $.s)"}`, `{"f":"1-x y"}`},
		{"intrinsic var", `{"f.$":"States.Array($v.n, $$.Execution.Name)"}`, `{"f":[42,"e1"]}`},
		{"key order", `{"z":1,"a.$":"$.a","m":2}`, `{"z":1,"a":1,"m":2}`},
		{"non-object", `[{"a.$":"$.a"}]`, `[{"a":1}]`},
		{"dollar literal", `{"not":"$.a"}`, `{"not":"$.a"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := loadTemplate(t, tt.tmpl)
			got, err := tp.Eval(env)
			if err != nil {
				t.Fatalf("eval: %v", err)
			}
			if s := value.String(got); s != tt.want {
				t.Errorf("got %s, want %s", s, tt.want)
			}
		})
	}
}

func TestTemplateErrors(t *testing.T) {
	env := &Env{
		Input:          value.MustParse(`{"int-literal":0}`),
		Context:        value.MustParse(`{"Execution":{"Input":{"int-literal":0}}}`),
		StateName:      "pass",
		EnteredEventID: 2,
	}
	tests := []struct {
		name, tmpl, errName, cause string
	}{
		{"missing path", `{"value.$":"$.no_such_jsonpath"}`, fault.Runtime,
			"An error occurred while executing the state 'pass' (entered at the event id #2). The JSONPath '$.no_such_jsonpath' specified for the field 'value.$' could not be found in the input '{\"int-literal\":0}'"},
		{"missing context path", `{"value.$":"$$.Execution.Input.no_such_jsonpath"}`, fault.Runtime,
			"An error occurred while executing the state 'pass' (entered at the event id #2). The JSONPath '$$.Execution.Input.no_such_jsonpath' specified for the field 'value.$' could not be found in the input '{\"Execution\":{\"Input\":{\"int-literal\":0}}}'"},
		{"missing in intrinsic", `{"v.$":"States.Array($.nope)"}`, fault.Runtime,
			"An error occurred while executing the state 'pass' (entered at the event id #2). The JSONPath '$.nope' specified for the field 'v.$' could not be found in the input '{\"int-literal\":0}'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadTemplate(t, tt.tmpl).Eval(env)
			fe, ok := err.(*fault.Error)
			if !ok {
				t.Fatalf("error %v (%T), want *fault.Error", err, err)
			}
			if fe.Name != tt.errName || fe.Cause != tt.cause {
				t.Errorf("got %s / %s\nwant %s / %s", fe.Name, fe.Cause, tt.errName, tt.cause)
			}
		})
	}
}

func TestFailPaths(t *testing.T) {
	def := `{"StartAt":"f","States":{"f":{"Type":"Fail","ErrorPath":"$.ErrorX","CausePath":"States.Format('c {}', $.a)"}}}`
	sm, err := Load([]byte(def), Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := sm.States["f"]
	env := &Env{Input: value.MustParse(`{"a":1}`), StateName: "f", EnteredEventID: 4}
	c, err := st.CausePath.Eval(env)
	if err != nil || c != "c 1" {
		t.Errorf("CausePath = %v, %v", c, err)
	}
	_, err = st.ErrorPath.Eval(env)
	want := "States.Runtime: An error occurred while executing the state 'f' (entered at the event id #4). The JSONPath '$.ErrorX' specified for the field 'ErrorPath' could not be found in the input '{\"a\":1}'"
	if err == nil || err.Error() != want {
		t.Errorf("ErrorPath error = %v\nwant %s", err, want)
	}
}

func TestAssignEval(t *testing.T) {
	def := `{"StartAt":"S","States":{"S":{"Type":"Pass","Assign":{"x.$":"$.a","y":{"z.$":"$.a"},"lit":"$.a"},"End":true}}}`
	sm, err := Load([]byte(def), Options{})
	if err != nil {
		t.Fatal(err)
	}
	o, err := sm.States["S"].Assign.Eval(&Env{Input: value.MustParse(`{"a":5}`)})
	if err != nil {
		t.Fatal(err)
	}
	if s := value.String(o); s != `{"x":5,"y":{"z":5},"lit":"$.a"}` {
		t.Errorf("got %s", s)
	}
}

func BenchmarkTemplateEval(b *testing.B) {
	def := `{"StartAt":"S","States":{"S":{"Type":"Pass","Parameters":{"a.$":"$.a","b":{"c.$":"$.b.c","lit":[1,2]},"n":"x"},"End":true}}}`
	sm, err := Load([]byte(def), Options{})
	if err != nil {
		b.Fatal(err)
	}
	tp := sm.States["S"].Parameters
	env := &Env{Input: value.MustParse(`{"a":1,"b":{"c":"d"}}`)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tp.Eval(env); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkChoiceMatch(b *testing.B) {
	def := `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"And":[{"Variable":"$.n","NumericGreaterThan":3},{"Variable":"$.s","StringMatches":"ab*"},{"Variable":"$.t","TimestampLessThan":"2030-01-01T00:00:00Z"}],"Next":"E"}],"Default":"E"},"E":{"Type":"Succeed"}}}`
	sm, err := Load([]byte(def), Options{})
	if err != nil {
		b.Fatal(err)
	}
	r := sm.States["C"].Choices[0]
	env := &Env{Input: value.MustParse(`{"n":5,"s":"abc","t":"2020-01-01T00:00:00Z"}`)}
	b.ReportAllocs()
	for b.Loop() {
		if m, err := r.Match(env); err != nil || !m {
			b.Fatal(m, err)
		}
	}
}

func BenchmarkLoad(b *testing.B) {
	def, err := os.ReadFile("testdata/diagnostics/valid.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(def, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTemplateLimit checks that a template's output is held to Env.MaxBytes
// exactly, counting literals, keys, brackets and the values it names, and
// that an Assign block is not (variables have their own quotas).
func TestTemplateLimit(t *testing.T) {
	tmpl := `{"a.$":"$.s","b":[1,"x\"y"],"c":{"d.$":"$.n"},"e.$":"States.Format('{}', $.s)"}`
	input := value.MustParse(`{"s":"q\"z\n","n":[1,{"k":null}]}`)
	tp := loadTemplate(t, tmpl)
	out, err := tp.Eval(&Env{Input: input})
	if err != nil {
		t.Fatal(err)
	}
	size := len(value.String(out))
	for _, tt := range []struct {
		max  int
		fail bool
	}{{0, false}, {size, false}, {size + 1, false}, {size - 1, true}, {10, true}} {
		_, err := tp.Eval(&Env{Input: input, MaxBytes: tt.max, StateName: "S"})
		fe, isFault := fault.As(err)
		if tt.fail != (isFault && fe.Name == fault.DataLimitExceeded) || !tt.fail && err != nil {
			t.Errorf("MaxBytes %d (output %d bytes): %v", tt.max, size, err)
		}
	}
	def := `{"StartAt":"S","States":{"S":{"Type":"Pass","Assign":` + tmpl + `,"End":true}}}`
	sm, err := Load([]byte(def), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sm.States["S"].Assign.Eval(&Env{Input: input, MaxBytes: 10}); err != nil {
		t.Errorf("Assign held to MaxBytes: %v", err)
	}
}

func TestTemplate_EvalRoom(t *testing.T) {
	input := value.MustParse(`{"a":1,"b":{"c":2},"s":"x"}`)
	tests := []struct {
		name, tmpl string
		fresh      bool
		want       string
	}{
		{"path", `{"x.$":"$.a","y":"z"}`, true, `{"x":1,"y":"z"}`},
		{"nested path", `{"o":{"p.$":"$.b.c"}}`, true, `{"o":{"p":2}}`},
		{"whole input", `{"all.$":"$"}`, true, `{"all":{"a":1,"b":{"c":2},"s":"x"}}`},
		{"literal object", `{"x":1,"y":{"z":2}}`, false, `{"x":1,"y":{"z":2}}`},
		{"array", `[{"a.$":"$.a"}]`, false, `[{"a":1}]`},
		{"escapes", `{"q\"k.$":"$.s","t\n":"\u0001","f.$":"States.StringToJson('1.5e3')"}`, true, `{"q\"k":"x","t\n":"\u0001","f":1500.0}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := loadTemplate(t, tt.tmpl)
			if tp.Fresh() != tt.fresh {
				t.Errorf("Fresh() = %v, want %v", tp.Fresh(), tt.fresh)
			}
			size := len(tt.want)
			for _, max := range []int{0, size, size - 1} {
				v, vsize, err := tp.EvalRoom(&Env{Input: input, MaxBytes: max, StateName: "S"}, 1)
				w, werr := tp.Eval(&Env{Input: input, MaxBytes: max, StateName: "S"})
				if (err == nil) != (werr == nil) || (err != nil && err.Error() != werr.Error()) {
					t.Fatalf("MaxBytes %d: EvalRoom error %v, Eval error %v", max, err, werr)
				}
				if err != nil {
					continue
				}
				if got := value.String(v); got != tt.want || value.String(w) != tt.want {
					t.Fatalf("MaxBytes %d: EvalRoom %s, Eval %s, want %s", max, got, value.String(w), tt.want)
				}
				if n := 0; !value.SizeWithin(v, &n, math.MaxInt) || vsize != n {
					t.Errorf("MaxBytes %d: EvalRoom's size %d, SizeWithin's %d", max, vsize, n)
				}
				if !tt.fresh {
					continue
				}
				// The new object has room for one more member, and setting
				// it changes neither the input nor a later output.
				if !v.(*value.Object).SetWithin("added", true) {
					t.Fatalf("no room in %s", tt.want)
				}
				if got, _ := tp.Eval(&Env{Input: input}); value.String(got) != tt.want {
					t.Errorf("after SetWithin, Eval = %s", value.String(got))
				}
				if value.String(input) != `{"a":1,"b":{"c":2},"s":"x"}` {
					t.Errorf("input changed: %s", value.String(input))
				}
			}
		})
	}
}
