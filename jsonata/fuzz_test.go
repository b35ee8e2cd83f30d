package jsonata

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stepwell/stepwell/value"
)

// FuzzEval compiles and evaluates arbitrary expressions against arbitrary
// inputs: no panic (a panic the package recovers, code SW004, counts as
// one), and an answer within the time limit.
func FuzzEval(f *testing.F) {
	for _, src := range fastExprs {
		f.Add(src, `{"n":7,"a":{"b":[1,2]},"s":"x"}`)
	}
	for _, src := range []string{
		`$sum($states.input.a.b) * 2`, `$states.input.a.b[$ > 1]`, `$map($states.input.a.b, function($v){ $v & "!" })`,
		`{"k": $states.input.s, "l": [1..3]}`, `$states.input.a.b ~> $reverse()`, `$string($states.input)`,
		`$keys($states.input)`, `$states.input.**.b`, `$states.input.a.b.%`, `$partition([1,2,3], 2)`,
		`$range(1, 9, 2)`, `$hash("x", "SHA-1")`, `$random(7)`, `$uuid()`, `$parse("[1,{\"a\":2}]")`,
		`$match("abc", /b(c)/)`, `$replace("abc", "b", "x")`, `$formatNumber(1234.5, "#,##0.00")`,
		`$now() ~> $type()`, `($x := 3; $y := function($a){ $a * $x }; $y(4))`, `$states.input.a{ "g": $ }`,
		`$sort($states.input.a.b, function($l, $r){ $l < $r })`, `$reduce([1,2,3], function($a, $b){ $a + $b })`,
		`$states.input.a.b@$v#$i.{"v": $v, "i": $i}`, `$states.input ~> | a | {"c": 1} |`, `$distinct([1,1,2])`,
		`$lookup({"a":1}, "a")`, `$each({"a":1}, function($v, $k){ $k })`, `$zip([1,2],[3,4])`, `$sift({"a":1}, function($v){ $v > 0 })`,
	} {
		f.Add(src, `{"n":7,"a":{"b":[1,2,3]},"s":"x"}`)
	}
	// The official suite's expressions, when the module is at hand.
	if out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/recolabs/gnata").Output(); err == nil {
		files, _ := filepath.Glob(filepath.Join(strings.TrimSpace(string(out)), "testdata", "groups", "*", "*.json"))
		for _, file := range files {
			raw, err := os.ReadFile(file)
			if err != nil {
				continue
			}
			var c suiteCase
			if json.Unmarshal(raw, &c) == nil && c.Expr != "" {
				f.Add(c.Expr, string(c.Data))
			}
		}
	}
	f.Fuzz(func(t *testing.T, src, input string) {
		e, err := Compile(src)
		if err != nil {
			var je *Error
			if !errors.As(err, &je) {
				t.Fatalf("Compile(%q): %v is no *Error", src, err)
			}
			if je.Code == codeInternal {
				t.Fatalf("Compile(%q): %v", src, err)
			}
			return
		}
		env := testEnv()
		if in, err := value.ParseString(input); err == nil {
			env.Input = in
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		// An evaluation that ignores its deadline kills the process, so that
		// the fuzzer records the input.
		watchdog := time.AfterFunc(30*time.Second, func() { panic(fmt.Sprintf("evaluation of %q hung", src)) })
		defer watchdog.Stop()
		start := time.Now()
		_, _, err = e.Eval(ctx, env)
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("%q took %v", src, d)
		}
		if err != nil {
			var je *Error
			if !errors.As(err, &je) {
				t.Fatalf("%q: %v is no *Error", src, err)
			}
			if je.Code == codeInternal {
				t.Fatalf("%q: %v", src, err)
			}
		}
	})
}
