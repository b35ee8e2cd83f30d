package jsonata

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepwell/stepwell/value"
)

type varMap map[string]any

func (m varMap) Var(name string) (any, bool) { v, ok := m[name]; return v, ok }

func testEnv() *Env {
	return &Env{
		Input:   value.MustParse(`{"a":{"b":[1,2,3]},"n":7,"s":"x","z":{"y":1,"x":2},"nul":null,"f":1.5}`),
		Context: value.MustParse(`{"Execution":{"Id":"arn:1"},"State":{"Name":"S"}}`),
		Vars:    varMap{"x": value.MustParse(`{"y":"why","q":[{"k":1},{"k":2}]}`), "num": int64(3)},
	}
}

func TestEval(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want string // JSON text of the result; "undefined" for none
	}{
		{`$states.input.n`, `7`},
		{`$states.input.a.b`, `[1,2,3]`},
		{`$states.input.a.b[1]`, `2`},
		{`$states.input.z`, `{"y":1,"x":2}`},
		{`$states.input.nul`, `null`},
		{`$states.input.missing`, `undefined`},
		{`$states.input.f * 2`, `3`},
		{`$states.input.n / 2`, `3.5`},
		{`$states.input.n > 5`, `true`},
		{`$states.context.State.Name`, `"S"`},
		{`$x.y`, `"why"`},
		{`$x.q.k`, `[1,2]`},
		{`$num + 1`, `4`},
		{`$nosuch`, `undefined`},
		{`$merge([$states.input.z, {'size': 'big'}])`, `{"y":1,"x":2,"size":"big"}`},
		{`{'b': 1, 'a': 2}`, `{"b":1,"a":2}`},
		{`$partition([1,2,3,4,5], 2)`, `[[1,2],[3,4],[5]]`},
		{`$range(0, 10, 3)`, `[0,3,6,9]`},
		{`$range(5, 1, -2)`, `[5,3,1]`},
		{`$hash('input', 'SHA-256')`, `"c96c6d5be8d08a12e7b5cdc1b207fa6b2430974c86803d8891675e76fd992c20"`},
		{`$hash('input', 'MD5')`, `"a43c1b0aa53a0c908810c06ab1ff3967"`},
		{`$parse('{"b":1,"a":[true,null]}')`, `{"b":1,"a":[true,null]}`},
		{`$parse('-0')`, `0`},
		{`$random(42) = $random(42)`, `true`},
		{`$string(1.0)`, `"1"`},
		{`$string(1.2345678901234567e-7)`, `"1.23456789012346e-7"`},
		{`$string(5890840712243076)`, `"5890840712243076"`},
		{`1e21`, `1.0E21`},
		{`$states.result`, `undefined`},
	} {
		v, ok, err := mustCompile(t, tc.src).Eval(context.Background(), testEnv())
		if err != nil {
			t.Errorf("%s: %v", tc.src, err)
			continue
		}
		got := "undefined"
		if ok {
			got = value.String(v)
		}
		if got != tc.want {
			t.Errorf("%s = %s, want %s", tc.src, got, tc.want)
		}
	}
}

func mustCompile(t testing.TB, src string) *Expr {
	t.Helper()
	e, err := Compile(src)
	if err != nil {
		t.Fatalf("Compile(%q): %v", src, err)
	}
	return e
}

func TestEval_Errors(t *testing.T) {
	for _, tc := range []struct{ src, code string }{
		{`$states.input.s + 1`, "T2001"},
		{`$hash('x', 'SHA-3')`, codeFunction},
		{`$range(0, 1e12, 1)`, codeFunction},
		{`$parse('{')`, codeFunction},
		{`$eval('1')`, "T1006"},
	} {
		_, _, err := mustCompile(t, tc.src).Eval(context.Background(), testEnv())
		var je *Error
		if !errors.As(err, &je) || je.Code != tc.code {
			t.Errorf("%s: error %v, want code %s", tc.src, err, tc.code)
		}
	}
}

func TestCompile_Error(t *testing.T) {
	_, err := Compile(`$states.input.(`)
	var je *Error
	if !errors.As(err, &je) || !strings.HasPrefix(je.Code, "S0") {
		t.Fatalf("Compile error %#v", err)
	}
}

func TestEval_Canceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := mustCompile(t, `$string(1)`).Eval(ctx, testEnv())
	var je *Error
	if !errors.As(err, &je) || je.Code != codeCanceled {
		t.Fatalf("error %v, want %s", err, codeCanceled)
	}
}

func TestIsExpression(t *testing.T) {
	for _, tc := range []struct {
		s, inner string
		ok       bool
	}{
		{"{% $x %}", "$x", true},
		{"{%$x%}", "$x", true},
		{" {% $x %}", "", false},
		{"{% $x %} ", "", false},
		{"{%%}", "", true},
		{"{%}", "", false},
		{"x", "", false},
	} {
		inner, ok := IsExpression(tc.s)
		if inner != tc.inner || ok != tc.ok {
			t.Errorf("IsExpression(%q) = %q, %v", tc.s, inner, ok)
		}
	}
}

func TestTemplate(t *testing.T) {
	tpl, err := CompileTemplate(value.MustParse(`{"n":"{% $states.input.n %}","tag":"x","list":["{% $x.y %}",2,{"deep":"{% $num * 2 %}"}],"lit":"{ not %}"}`))
	if err != nil {
		t.Fatal(err)
	}
	v, ok, err := tpl.Eval(context.Background(), testEnv())
	if err != nil || !ok {
		t.Fatal(err, ok)
	}
	if got, want := value.String(v), `{"n":7,"tag":"x","list":["why",2,{"deep":6}],"lit":"{ not %}"}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}

	whole, _ := CompileTemplate("{% $nosuch %}")
	if _, ok, err := whole.Eval(context.Background(), testEnv()); ok || err != nil {
		t.Errorf("whole undefined: ok=%v err=%v", ok, err)
	}

	nested, _ := CompileTemplate(value.MustParse(`{"a":[1,{"result":"{% $nosuch %}"}]}`))
	_, _, err = nested.Eval(context.Background(), testEnv())
	var te *TemplateError
	if !errors.As(err, &te) || !te.Undefined || te.Path != "/a/1/result" || te.Expr != "$nosuch" {
		t.Errorf("nested undefined: %#v", err)
	}

	_, err = CompileTemplate(value.MustParse(`{"a":{"b":"{% ( %}"}}`))
	if !errors.As(err, &te) || te.Path != "/a/b" {
		t.Errorf("compile error: %#v", err)
	}
	var je *Error
	if !errors.As(err, &je) {
		t.Errorf("compile error does not wrap *Error: %v", err)
	}
}

// TestErrors_Detail: errors carry jsonata-js's code and wording, the
// token and the character position.
func TestErrors_Detail(t *testing.T) {
	for _, tc := range []struct {
		src, code, msg, token string
		pos                   int
	}{
		{`$states.input.s + 1`, "T2001", `The left side of the "+" operator must evaluate to a number`, "+", 16},
		{`1 - 'é'`, "T2002", `The right side of the "-" operator must evaluate to a number`, "-", 2},
		{`'a' < 1`, "T2009", `The values "a" and 1 either side of operator "<" must be of the same data type`, "<", 4},
		{`$states.input.z > 1`, "T2010", `The expressions either side of operator ">" must evaluate to numeric or string values`, ">", 16},
		{`$nosuch()`, "T1006", `Attempted to invoke a non-function`, "", 0},
		{`$pad("x", "y")`, "T0410", `Argument 2 of function "pad" does not match function signature`, "pad", 0},
		{`$base64encode(1)`, "T0410", `Argument 1 of function "base64encode" does not match function signature`, "base64encode", 0},
	} {
		_, _, err := mustCompile(t, tc.src).Eval(context.Background(), testEnv())
		var je *Error
		if !errors.As(err, &je) {
			t.Errorf("%s: %v", tc.src, err)
			continue
		}
		if je.Code != tc.code || je.Message != tc.msg || je.Token != tc.token || (tc.pos > 0 && je.Position != tc.pos) {
			t.Errorf("%s: got %+v, want code %s message %q token %q position %d", tc.src, *je, tc.code, tc.msg, tc.token, tc.pos)
		}
	}
	for _, tc := range []struct {
		src  string
		code string
		pos  int
	}{
		{`$states.input.(`, "S0203", 15},
		{`$f(1 2)`, "S0202", 5},
		{`'abc`, "S0101", 0},
		{`1 +`, "S0207", 3},
		{`é + é)`, "S0201", 5},
	} {
		_, err := Compile(tc.src)
		var je *Error
		if !errors.As(err, &je) || je.Position != tc.pos {
			t.Errorf("Compile(%q): %#v, want position %d", tc.src, err, tc.pos)
		}
	}
}

// TestAccess: only the parts of $states and variables an expression reads
// are converted, and the results are those of a whole conversion.
func TestAccess(t *testing.T) {
	env := &Env{
		Input: value.MustParse(`{"a":{"b":1,"c":[{"d":1},{"d":2}]},"big":{"x":1},"arr":[{"k":1},{"k":2}]}`),
		Vars:  varMap{"v": value.MustParse(`{"p":{"q":3},"r":4}`)},
	}
	for _, tc := range []struct{ src, want, read string }{
		{`$states.input.a.b + 1`, `2`, `{"input":{"a":{"b":1}}}`},
		{`$sum($states.input.a.c.d)`, `3`, `{"input":{"a":{"c":[{"d":1},{"d":2}]}}}`},
		{`$states.input.arr[k=2].k`, `2`, `{"input":{"arr":[{"k":1},{"k":2}]}}`},
		{`$keys($states.input.a)`, `["b","c"]`, `{"input":{"a":{"b":1,"c":[{"d":1},{"d":2}]}}}`},
		{`$states.input.a.b.%.c.d`, `[1,2]`, ``},
		{`$v.p.q * $v.r`, `12`, ``},
		{`$count($keys($v))`, `2`, ``},
		{`($s := $states; $s.input.a.b)`, `1`, ``},
	} {
		e := mustCompile(t, tc.src)
		v, ok, err := e.prog.eval(context.Background(), env)
		if err != nil || !ok || value.String(v) != tc.want {
			t.Errorf("%s = %v (%v, %v), want %s", tc.src, value.String(v), ok, err, tc.want)
		}
		if tc.read != "" {
			got, _ := fromLib(e.prog.statesValue(env))
			if value.String(got) != tc.read {
				t.Errorf("%s reads %s of $states, want %s", tc.src, value.String(got), tc.read)
			}
		}
	}
}

// TestCompile_Nesting: deeply nested expressions are refused before the
// parser's and evaluator's recursion meet them.
func TestCompile_Nesting(t *testing.T) {
	for _, src := range []string{
		strings.Repeat("(", 600) + "1" + strings.Repeat(")", 600),
		strings.Repeat("[", 100000) + strings.Repeat("]", 100000),
		"1" + strings.Repeat(" + 1", 3000),
	} {
		_, err := Compile(src)
		var je *Error
		if !errors.As(err, &je) || je.Code != codeLimit {
			t.Errorf("Compile(%.20s…): %v, want %s", src, err, codeLimit)
		}
	}
	if _, err := Compile(strings.Repeat("(", 400) + "1" + strings.Repeat(")", 400)); err != nil {
		t.Errorf("400 levels: %v", err)
	}
}

// TestLimits: pathological expressions end with an *Error, soon.
func TestLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	for _, tc := range []struct{ src, code string }{
		{`$range(0, 1e12, 1)`, codeFunction},
		{`[0..1e12]`, "D2014"},
		{`$count([1..1e7-1])`, codeLimit},
		{`$join([1..1e7].$string())`, codeLimit},
		{`($f := function($s, $n){ $n = 0 ? $s : $f($s & $s, $n - 1) }; $length($f("x", 40)))`, codeLimit},
		{`$reduce([1..40], function($a, $b){ $a & $a }, "x")`, codeLimit},
		{`$reduce([1..60], function($a, $b){ [$a, $a] }, [1])`, codeLimit},
		{`($f := function($n){ 1 + $f($n + 1) }; $f(0))`, "U1001"},
		{`$pad("x", 1e9)`, "D3010"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		start := time.Now()
		_, _, err := mustCompile(t, tc.src).Eval(ctx, testEnv())
		cancel()
		var je *Error
		if !errors.As(err, &je) || je.Code != tc.code {
			t.Errorf("%s: %v, want code %s", tc.src, err, tc.code)
		}
		if d := time.Since(start); d > 15*time.Second {
			t.Errorf("%s: took %v", tc.src, d)
		}
	}
}

// TestRegex_Boundary: JavaScript regular expressions run where RE2 has the
// same meaning; look-around and back-references, which RE2 lacks, fail the
// expression's compilation with a clear error instead of a wrong answer.
func TestRegex_Boundary(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`$match("ab12", /[0-9]+/).match`, `"12"`},
		{`$contains("Hello", /hello/i)`, `true`},
		{`$replace("a-b-c", /-/, "+")`, `"a+b+c"`},
		{`$split("a1b22c", /\d+/)`, `["a","b","c"]`},
		{`$match("é", /\u00e9/).match`, `"é"`},
		{`$match("a/b", /a\/b/).match`, `"a/b"`},
		{`$match("2024-01-02", /(?<y>\d{4})-(\d{2})/).groups`, `["2024","01"]`},
		{`$match("abab", /b/)`, `[{"match":"b","index":1,"groups":[]},{"match":"b","index":3,"groups":[]}]`},
		{`"abc" ~> /b/`, `{"match":"b","start":1,"end":2,"groups":[]}`},
	} {
		v, _, err := mustCompile(t, tc.src).Eval(context.Background(), testEnv())
		if err != nil || value.String(v) != tc.want {
			t.Errorf("%s = %s (%v), want %s", tc.src, value.String(v), err, tc.want)
		}
	}
	for _, src := range []string{
		`$match("ab", /a(?=b)/)`, `$contains("ab", /(?<!x)b/)`, `$replace("aa", /(a)\1/, "x")`, `$match("x", /(?<n>x)\k<n>/)`,
	} {
		_, err := Compile(src)
		var je *Error
		if !errors.As(err, &je) || je.Code != codeRegex || !strings.Contains(je.Message, "RE2") {
			t.Errorf("Compile(%s) = %v, want a %s error naming RE2", src, err, codeRegex)
		}
	}
}

// TestEval_Concurrent: one compiled expression evaluated by many goroutines
// (run with -race).
func TestEval_Concurrent(t *testing.T) {
	exprs := []*Expr{
		mustCompile(t, `$sum($states.input.a.b) & $x.y`),
		mustCompile(t, `$states.input.a.b[$ > 1]{ $string($): $ }`),
		mustCompile(t, `$match($states.input.s, /x/).match`),
		mustCompile(t, `$states.input.n > 5`),
		mustCompile(t, `$states.input.a.b.%.b ~> $reverse()`),
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				e := exprs[(g+i)%len(exprs)]
				if _, _, err := e.Eval(context.Background(), testEnv()); err != nil {
					t.Errorf("%s: %v", e.Source(), err)
				}
			}
		}()
	}
	wg.Wait()
}

// TestRandom_Seeded: $random(seed) is Java's new Random(seed).nextDouble()
// (values computed with Java), and $random() is in [0, 1).
func TestRandom_Seeded(t *testing.T) {
	for seed, want := range map[string]string{"42": "0.7275636800328681", "0": "0.730967787376657", "1": "0.7308781907032909"} {
		v, _, err := mustCompile(t, `$random(`+seed+`)`).Eval(context.Background(), testEnv())
		if err != nil || value.String(v) != want {
			t.Errorf("$random(%s) = %v (%v), want %s", seed, value.String(v), err, want)
		}
	}
	v, _, err := mustCompile(t, `$random()`).Eval(context.Background(), testEnv())
	if f, ok := v.(float64); err != nil || !ok || f < 0 || f >= 1 {
		t.Errorf("$random() = %v (%v)", v, err)
	}
	if _, _, err := mustCompile(t, `$random('x')`).Eval(context.Background(), testEnv()); err == nil {
		t.Error("$random('x'): no error")
	}
}

// TestNow: $now() is the evaluation's time in milliseconds, as jsonata-js
// formats it, the same for every call of one evaluation, as is $millis().
func TestNow(t *testing.T) {
	v, _, err := mustCompile(t, `[$now(), $now(), $millis(), $toMillis($now())]`).Eval(context.Background(), testEnv())
	a, ok := v.([]any)
	if err != nil || !ok || len(a) != 4 {
		t.Fatalf("%v, %v", value.String(v), err)
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(a[0].(string)) || a[0] != a[1] || !value.Equal(a[2], a[3]) {
		t.Errorf("got %s", value.String(v))
	}
}
