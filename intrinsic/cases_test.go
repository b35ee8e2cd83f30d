package intrinsic

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stepwell/stepwell/value"
)

// casesDir holds the conformance cases recorded against AWS.
const casesDir = "/work/shared/conformance/cases"

func get(v any, keys ...string) any {
	for _, k := range keys {
		o, ok := v.(*value.Object)
		if !ok {
			return nil
		}
		v, _ = o.Get(k)
	}
	return v
}

// TestConformanceCases evaluates the intrinsic calls of recorded cases that
// are a single Pass state (Parameters or Assign) and compares the results
// with what AWS returned.
func TestConformanceCases(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(casesDir, "*.json"))
	if len(files) == 0 {
		t.Skip("conformance cases not available")
	}
	checked := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := value.Parse(data)
		if err != nil {
			continue
		}
		name, _ := get(doc, "name").(string)
		exp := get(doc, "expected")
		if get(exp, "status") != "SUCCEEDED" {
			continue
		}
		states, _ := get(doc, "definition", "States").(*value.Object)
		if states.Len() != 1 {
			continue
		}
		_, state := states.At(0)
		if get(state, "Type") != "Pass" {
			continue
		}
		input := get(doc, "input")
		ctx := value.NewObject(2)
		ex := value.NewObject(2)
		ex.Set("Input", input)
		ctx.Set("Execution", ex)
		sm := value.NewObject(1)
		sm.Set("Name", "<ArnPart_0idx>")
		ctx.Set("StateMachine", sm)
		r := &docResolver{Input: input, Context: ctx}

		if params, ok := get(state, "Parameters").(*value.Object); ok && params.Len() == 1 {
			k, v := params.At(0)
			expr, ok := v.(string)
			if !ok || !IsIntrinsic(expr) {
				continue
			}
			want := get(exp, "output")
			if get(state, "OutputPath") == nil {
				want = get(want, strings.TrimSuffix(k, ".$"))
			}
			checkCase(t, name, expr, r, want)
			checked++
			continue
		}
		assign, ok := get(state, "Assign").(*value.Object)
		if !ok || get(state, "Result") == nil {
			continue
		}
		var assigned any
		hist, _ := get(exp, "history").([]any)
		for _, h := range hist {
			if a := get(h, "stateExitedEventDetails", "assignedVariables"); a != nil {
				assigned = a
			}
		}
		r.Input = get(state, "Result")
		for i := 0; i < assign.Len(); i++ {
			group, g := assign.At(i)
			gobj, ok := g.(*value.Object)
			if !ok {
				continue
			}
			for j := 0; j < gobj.Len(); j++ {
				k, v := gobj.At(j)
				expr, ok := v.(string)
				if !ok || !IsIntrinsic(expr) || strings.Contains(expr, "UUID") {
					continue
				}
				checkCase(t, name, expr, r, get(assigned, group, strings.TrimSuffix(k, ".$")))
				checked++
			}
		}
	}
	if checked < 80 {
		t.Errorf("only %d recorded intrinsic calls checked", checked)
	}
	t.Logf("%d recorded intrinsic calls checked", checked)
}

func checkCase(t *testing.T, name, expr string, r Resolver, want any) {
	t.Helper()
	c, err := Parse(expr)
	if err != nil {
		t.Errorf("%s: Parse(%q): %v", name, expr, err)
		return
	}
	got, err := c.Eval(r)
	if err != nil {
		t.Errorf("%s: %s: %v", name, expr, err)
		return
	}
	if want == "RandomNumberGenerated" {
		if _, ok := got.(int64); !ok {
			t.Errorf("%s: %s = %s, want an integer", name, expr, value.String(got))
		}
		return
	}
	if value.String(got) != value.String(want) && !value.Equal(got, want) {
		t.Errorf("%s: %s = %s, want %s", name, expr, value.String(got), value.String(want))
	}
}
