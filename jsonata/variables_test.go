package jsonata_test

import (
	"slices"
	"testing"

	"github.com/stepwell/stepwell/jsonata"
)

func TestVariables(t *testing.T) {
	for _, c := range []struct {
		src  string
		want []string
	}{
		{`$states.input.n`, nil},
		{`$x`, []string{"x"}},
		{`$b.c + $a + $b`, []string{"b", "a"}},
		{`$sum($items) > $limit`, []string{"items", "limit"}},
		{`($y := $x + 1; $y * $z)`, []string{"x", "z"}},
		{`$map($list, function($v) { $v * $factor })`, []string{"list", "factor"}},
		{`$merge([$states.input, {'total': $total}])`, []string{"total"}},
		{`$uuid() & $partition([1,2], 1)`, nil},
		{`"$notAVariable"`, nil},
		{`$`, nil},
	} {
		e, err := jsonata.Compile(c.src)
		if err != nil {
			t.Fatalf("Compile(%q): %v", c.src, err)
		}
		if got := e.Variables(); !slices.Equal(got, c.want) {
			t.Errorf("Variables(%q) = %q, want %q", c.src, got, c.want)
		}
	}
}
