package jsonata

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stepwell/stepwell/value"
)

// The expressions of ../shared/bench/pass-choice.jsonata.asl.json, each
// on the fast path and through the library, with an input like the
// benchmark's ({"n": i % 10}).
var benchExprs = []struct{ name, src string }{
	{"Path", `$states.input.n`},
	{"Compare", `$states.input.n > 5`},
	{"Merge", `$merge([$states.input, {'size': 'big'}])`},
	{"Var", `$x.y`},
}

func BenchmarkExpr(b *testing.B) {
	env := &Env{Input: value.MustParse(`{"n":7}`), Vars: varMap{"x": value.MustParse(`{"y":1}`)}}
	ctx := context.Background()
	for _, bx := range benchExprs {
		e := mustCompile(b, bx.src)
		b.Run(bx.name+"/fast", func(b *testing.B) {
			if e.fast == nil {
				b.Skip("not on the fast path")
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := e.Eval(ctx, env); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bx.name+"/library", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := e.prog.eval(ctx, env); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTemplate is the Output of the benchmark's first state.
func BenchmarkTemplate(b *testing.B) {
	t, err := CompileTemplate(value.MustParse(`{"n":"{% $states.input.n %}","tag":"x"}`))
	if err != nil {
		b.Fatal(err)
	}
	env := &Env{Input: value.MustParse(`{"n":7}`)}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := t.Eval(ctx, env); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLargeInput: the library evaluating an expression that reads one
// member of a large input (1,000 items) converts only that member; "whole"
// is what converting the input costs.
func BenchmarkLargeInput(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"meta":{"id":"x"},"items":[`)
	for i := range 1000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"id":%d,"name":"item %d","tags":["a","b"],"price":%d.5}`, i, i, i)
	}
	sb.WriteString(`]}`)
	env := &Env{Input: value.MustParse(sb.String())}
	e := mustCompile(b, `$states.input.meta.id & '!'`)
	ctx := context.Background()
	b.Run("read-one-member", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := e.prog.eval(ctx, env); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("whole", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = toLib(env.Input)
		}
	})
}
