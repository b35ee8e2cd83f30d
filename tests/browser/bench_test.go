package browser

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Budgets of the benchmarks (issue 12, done-criterion 2).
const (
	openBudget   = 2 * time.Second // an execution with 25,000 events: graph and first page of events
	layoutBudget = time.Second     // a 300-state definition laid out
)

// bigMapItems makes an inline Map's execution write 6 + 4×items events:
// 6,248 items are 24,998 events, just under AWS's 25,000.
const bigMapItems = 6248

// TestConsoleBenchmarks prints the console's figures and fails past the
// budgets: opening an execution of 24,998 history events (graph and first
// page of events shown; then the whole history loaded) and laying out a
// 300-state definition. Each is measured cold (first load of the page)
// and warm (the browser has the assets cached), best of three warm runs.
func TestConsoleBenchmarks(t *testing.T) {
	requireBrowserTests(t)
	s := startServer(t, nil)
	b := newBrowser(t, "benchmarks")

	// An execution with 24,998 events.
	arn := s.createMachine("big-history", map[string]any{"StartAt": "Each", "States": map[string]any{
		"Each": map[string]any{"Type": "Map", "ItemsPath": "$.items", "End": true,
			"ItemProcessor": map[string]any{"ProcessorConfig": map[string]any{"Mode": "INLINE"}, "StartAt": "Item",
				"States": map[string]any{"Item": map[string]any{"Type": "Pass", "End": true}}}}}})
	items := make([]int, bigMapItems)
	for i := range items {
		items[i] = i
	}
	input := fmt.Sprintf(`{"items": %s}`, jsonOf(items))
	x := s.call("StartExecution", map[string]any{"stateMachineArn": arn, "input": input})["executionArn"].(string)
	if st := s.waitDone(x, 2*time.Minute); st != "SUCCEEDED" {
		t.Fatalf("big execution: %s", st)
	}
	page := s.url + "/executions/" + url.PathEscape(x)
	var best time.Duration
	var events int
	for run := 0; run < 4; run++ {
		var inPage, complete, fetch, recompute, analyzeMs float64
		start := time.Now()
		b.run("open the big execution",
			chromedp.Navigate(page),
			waitJS(`document.querySelector('#graph [data-state-name="Item"]') !== null && document.querySelector('#events')?.dataset.loaded === 'true' && document.querySelectorAll('#events .event-row').length > 0`, 30*time.Second))
		open := time.Since(start)
		b.run("whole history", waitJS(`document.querySelector('main').dataset.history === 'complete'`, 60*time.Second),
			evalInto(`window.stepwell.timings.executionFirstPaintMs`, &inPage),
			evalInto(`window.stepwell.timings.executionCompleteMs`, &complete),
			evalInto(`window.stepwell.timings.historyFetchMs`, &fetch),
			evalInto(`window.stepwell.timings.recomputeMs`, &recompute),
			evalInto(`window.stepwell.timings.analyzeMs`, &analyzeMs),
			evalInto(`document.querySelector('#timeline').max - 0`, &events))
		kind := "warm"
		if run == 0 {
			kind = "cold"
			b.shot("big-execution")
		} else if best == 0 || open < best {
			best = open
		}
		fmt.Printf("BenchmarkConsole/execution-%d-events/%s: graph and first page of events in %d ms (navigation to both on screen; page's own figure %.0f ms), whole history in %.0f ms (%.0f ms of it fetching the other pages, %.0f ms colouring, %.0f ms of that reading the events)\n",
			events, kind, open.Milliseconds(), inPage, complete, fetch, recompute, analyzeMs)
	}
	if events != 24998 {
		t.Errorf("the big execution has %d events, want 24998", events)
	}
	fmt.Printf("BenchmarkConsole/execution-%d-events: best warm open %d ms (budget %d ms)\n", events, best.Milliseconds(), openBudget.Milliseconds())
	if best > openBudget {
		t.Errorf("opening an execution of %d events took %s, budget %s", events, best, openBudget)
	}

	// A 300-state definition.
	def, n := bigDefinition(20)
	if n != 300 {
		t.Fatalf("the big definition has %d states, want 300", n)
	}
	big := s.createMachine("three-hundred-states", def)
	var bestLayout float64
	for run := 0; run < 4; run++ {
		var layout float64
		var nodes int
		start := time.Now()
		b.run("open the big machine", chromedp.Navigate(s.url+"/state-machines/"+url.PathEscape(big)),
			waitJS(`document.querySelector('main').dataset.ready === 'true'`, 30*time.Second),
			evalInto(`window.stepwell.timings.layoutMs`, &layout),
			evalInto(`document.querySelectorAll('#graph [data-state-name]').length`, &nodes))
		open := time.Since(start)
		kind := "warm"
		if run == 0 {
			kind = "cold"
			b.shot("big-definition")
		} else if bestLayout == 0 || layout < bestLayout {
			bestLayout = layout
		}
		if nodes != 300 {
			t.Errorf("the graph has %d state nodes, want 300", nodes)
		}
		fmt.Printf("BenchmarkConsole/layout-300-states/%s: laid out in %.0f ms; page open in %d ms\n", kind, layout, open.Milliseconds())
	}
	fmt.Printf("BenchmarkConsole/layout-300-states: best warm layout %.0f ms (budget %d ms)\n", bestLayout, layoutBudget.Milliseconds())
	if bestLayout > float64(layoutBudget.Milliseconds()) {
		t.Errorf("laying out 300 states took %.0f ms, budget %s", bestLayout, layoutBudget)
	}
	if errs := b.pageErrors(); len(errs) > 0 {
		t.Errorf("the page reported errors: %v", errs)
	}
}

// bigDefinition builds segments of 15 states each: a Choice with two
// rules and a default, three Pass states, a Parallel of two branches of
// three Pass states with a Catch, a Map of two states and a Wait.
func bigDefinition(segments int) (map[string]any, int) {
	states := map[string]any{}
	name := func(kind string, seg, i int) string { return fmt.Sprintf("%s %d.%d", kind, seg, i) }
	for s := 0; s < segments; s++ {
		next := "End of the line"
		if s+1 < segments {
			next = name("Choose", s+1, 0)
		}
		par, mp, wait := name("Fan out", s, 0), name("Each", s, 0), name("Pause", s, 0)
		states[name("Choose", s, 0)] = map[string]any{"Type": "Choice",
			"Choices": []any{
				map[string]any{"Variable": "$.n", "NumericGreaterThan": s, "Next": name("Step", s, 0)},
				map[string]any{"Variable": "$.mode", "StringEquals": "fast", "Next": name("Step", s, 1)},
			},
			"Default": name("Step", s, 2)}
		for i := 0; i < 3; i++ {
			states[name("Step", s, i)] = map[string]any{"Type": "Pass", "Next": par}
		}
		branch := func(b int) map[string]any {
			st := map[string]any{}
			for i := 0; i < 3; i++ {
				n := name(fmt.Sprintf("Branch %d", b), s, i)
				if i < 2 {
					st[n] = map[string]any{"Type": "Pass", "Next": name(fmt.Sprintf("Branch %d", b), s, i+1)}
				} else {
					st[n] = map[string]any{"Type": "Pass", "End": true}
				}
			}
			return map[string]any{"StartAt": name(fmt.Sprintf("Branch %d", b), s, 0), "States": st}
		}
		states[par] = map[string]any{"Type": "Parallel", "Branches": []any{branch(0), branch(1)}, "Next": mp,
			"Catch": []any{map[string]any{"ErrorEquals": []string{"States.ALL"}, "Next": wait}}}
		states[mp] = map[string]any{"Type": "Map", "Next": wait, "ItemProcessor": map[string]any{
			"ProcessorConfig": map[string]any{"Mode": "INLINE"}, "StartAt": name("Item", s, 0),
			"States": map[string]any{
				name("Item", s, 0): map[string]any{"Type": "Pass", "Next": name("Item", s, 1)},
				name("Item", s, 1): map[string]any{"Type": "Pass", "End": true},
			}}}
		if s+1 < segments {
			states[wait] = map[string]any{"Type": "Wait", "Seconds": 1, "Next": next}
		} else {
			states[wait] = map[string]any{"Type": "Succeed"}
		}
	}
	return map[string]any{"StartAt": "Choose 0.0", "States": states}, 15 * segments
}
