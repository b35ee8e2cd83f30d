package jsonata

import (
	"context"
	"errors"
	"testing"

	"github.com/stepwell/stepwell/value"
)

// fastExprs are expressions the fast path is meant to take.
var fastExprs = []string{
	`$states.input`, `$states.input.n`, `$states.input.a.b`, `$states.input.a.b.c`, `$states.input.s`,
	`$states.input.nul`, `$states.input.missing`, `$states.input.arr`, `$states.input.arr.x`,
	`$states.input.obj`, `$states.input.f`, `$states.input.big`, `$states.input.t`, `$states.input.empty`,
	"$states.input.`odd key`", `$states.context.State.Name`, `$states.result`, `$states.result.x`,
	`$states.errorOutput.Error`, `$x`, `$x.y`, `$x.q`, `$nosuch`, `$nosuch.y`, `$num`,
	`5`, `-5`, `1.5`, `1e3`, `0`, `'str'`, `"dq"`, `true`, `false`, `null`,
	`$states.input.n > 5`, `$states.input.n >= 7`, `$states.input.n < 7`, `$states.input.n <= 6.5`,
	`$states.input.n = 7`, `$states.input.n != 7`, `$states.input.n = 7.0`, `$states.input.s = 'x'`,
	`$states.input.s != 'x'`, `$states.input.s > 'a'`, `$states.input.s < 'é'`, `$states.input.s = 7`,
	`$states.input.s < 7`, `$states.input.missing > 5`, `$states.input.missing = 5`, `$states.input.missing != 5`,
	`$states.input.nul = null`, `$states.input.nul != null`, `$states.input.nul > 1`, `$states.input.t = true`,
	`$states.input.obj = 1`, `$states.input.obj > 1`, `$states.input.arr = 1`, `$states.input.arr > 1`,
	`$states.input.f > 1`, `$states.input.big > 1`, `$states.input.big = 12345678901234567890`,
	`$num = 3`, `$x.y = 'why'`, `$states.input.n > $num`, `$states.input.s = $x.y`,
	`$states.input.n > 5 and $states.input.s = 'x'`, `$states.input.n > 50 and $states.input.s = 'x'`,
	`$states.input.n > 50 or $states.input.s = 'x'`, `$states.input.n > 50 or $states.input.missing`,
	`$states.input.t and $states.input.obj`, `$states.input.empty or $states.input.s`,
	`$states.input.arr and true`, `$states.input.nul or 0`, `'' or 1`,
	`$merge([$states.input, {'size': 'big'}])`, `$merge([$states.input.obj, {'k': $states.input.n, 'z': $nosuch}])`,
	`$merge([$states.input.obj, {'k': 1, 'k': 2}])`, `$merge([$states.input.s, {'k': 1}])`,
	`$merge([$states.input.missing, {'k': 1}])`, `$merge([$states.input.arr, {'k': 1}])`,
	`$merge([$states.input.obj, {}])`, `$merge([$states.input.obj, {'a': 'new'}])`,
	`$states.input.n>5`, ` $states.input . n `, `$states.input.a.b.c = 1`, `$states.input.t = 1`,
	`$states.input.n + 1`, `$states.input.n - 0.5`, `$states.input.n * $states.input.f`, `$states.input.n / 2`,
	`$states.input.n / 0`, `$states.input.s + 1`, `$states.input.missing + 1`, `1 + 2 * 3 - 4 / 8`,
	`$states.input.n * 2 > 10`, `$states.input.s & 'y'`, `$states.input.s & $nosuch & 'z'`, `'a' & 1`,
	`$states.input.nul & 'x'`, `$states.input.big + 1`, `$x.y & '-' & $states.input.s = 'why-x'`,
	`0.1 + 0.2`, `$states.input.f - $states.input.f`, `-1 * 0`, `$states.input.n-1`,
}

func diffEnv() *Env {
	return &Env{
		Input: value.MustParse(`{"n":7,"a":{"b":{"c":1}},"s":"x","nul":null,"arr":[{"x":1},{"x":2}],` +
			`"obj":{"a":1,"b":[1,2.0],"c":{"d":1.0}},"f":2.5,"big":12345678901234567890,"t":true,"empty":{},"odd key":"o"}`),
		Context:        value.MustParse(`{"State":{"Name":"S"}}`),
		Result:         value.MustParse(`{"x":[1]}`),
		HasResult:      true,
		ErrorOutput:    value.MustParse(`{"Error":"E","Cause":"C"}`),
		HasErrorOutput: true,
		Vars:           varMap{"x": value.MustParse(`{"y":"why","q":[1,2]}`), "num": int64(3)},
	}
}

// TestFast_Taken: the fast path takes the expressions it is meant for.
func TestFast_Taken(t *testing.T) {
	for _, src := range []string{
		`$states.input.n`, `$states.input.n > 5`, `$merge([$states.input, {'size': 'big'}])`,
		`$x.y`, `'lit'`, `$states.input.a = 'x' or $x.y != 2`,
	} {
		if mustCompile(t, src).fast == nil {
			t.Errorf("%s: not on the fast path", src)
		}
	}
	for _, src := range []string{`$states.input.a[0]`, `$string($x)`, `$states`, `$states.input.('a')`, `'a\n'`, `1 ** 2`, `$states.input.n % 2`} {
		if mustCompile(t, src).fast != nil {
			t.Errorf("%s: on the fast path", src)
		}
	}
}

// TestFast_Differential: wherever the fast path answers, it answers as the
// library does.
func TestFast_Differential(t *testing.T) {
	for _, src := range fastExprs {
		checkDifferential(t, src, diffEnv())
	}
}

func checkDifferential(t *testing.T, src string, env *Env) {
	t.Helper()
	e, err := Compile(src)
	if err != nil || e.fast == nil {
		return
	}
	fv, fdef, ok := e.fast.fast(env)
	if !ok {
		return
	}
	fv = canonical(fv)
	gv, gdef, err := e.prog.eval(context.Background(), env)
	var je *Error
	if err != nil && !errors.As(err, &je) {
		t.Errorf("%s: library: %v", src, err)
		return
	}
	if err != nil {
		t.Errorf("%s: fast = %s (defined %v), library fails: %v", src, value.String(fv), fdef, err)
		return
	}
	if fdef != gdef || (fdef && value.String(fv) != value.String(gv)) {
		t.Errorf("%s: fast = %s (defined %v), library = %s (defined %v)", src, value.String(fv), fdef, value.String(gv), gdef)
	}
}

// FuzzFast: on random inputs and expressions built from the fast path's
// grammar, the fast path agrees with the library whenever it answers.
func FuzzFast(f *testing.F) {
	for _, src := range fastExprs {
		f.Add(src, `{"n":7,"a":{"b":1},"s":"x"}`)
	}
	f.Add(`$states.input.a = $states.input.b`, `{"a":1,"b":1.0}`)
	f.Add(`$states.input.a * 3 - $states.input.b / 7 & 'x'`, `{"a":1e300,"b":-0.0}`)
	f.Fuzz(func(t *testing.T, src, input string) {
		in, err := value.ParseString(input)
		if err != nil {
			return
		}
		env := diffEnv()
		env.Input = in
		checkDifferential(t, src, env)
	})
}
