// Package browser tests the web console in a real browser: headless
// Chromium (Debian's chromium package, never a downloaded build) driven
// over the DevTools protocol with chromedp, against a Stepwell server run
// in-process. It reads what a user sees through the console's testability
// contract: /executions/<executionArn> and /state-machines/<arn> pages, and
// graph nodes with data-state-name and data-status.
//
// It runs only when STEPWELL_BROWSER_TEST=1 (.ci/run sets it; scripts/test.sh
// runs it then). STEPWELL_CHROMIUM names the browser (default: chromium on
// the PATH). Screenshots of every step are written to
// STEPWELL_BROWSER_ARTIFACTS (default tests/browser/artifacts), and the
// benchmarks print their figures (TestConsoleBenchmarks).
package browser

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/chromedp/chromedp"

	"github.com/stepwell/stepwell/internal/app"
)

// server is a Stepwell server in-process with a client of its API, which
// signs its requests when the server has credentials.
type server struct {
	url   string
	t     *testing.T
	creds *aws.Credentials
}

func startServer(t *testing.T, configure func(*app.Config)) *server {
	t.Helper()
	cfg := app.DefaultConfig()
	cfg.Store = "memory"
	if configure != nil {
		configure(&cfg)
	}
	srv, err := app.New(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler)
	t.Cleanup(func() {
		hs.Close()
		_ = srv.Close(context.Background())
	})
	return &server{url: hs.URL, t: t}
}

// call sends one Step Functions action, as an SDK would.
func (s *server) call(action string, body any) map[string]any {
	s.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, s.url+"/", bytes.NewReader(b))
	req.Header.Set("X-Amz-Target", "AWSStepFunctions."+action)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	if s.creds != nil {
		sum := sha256.Sum256(b)
		if err := v4.NewSigner().SignHTTP(context.Background(), *s.creds, req, hex.EncodeToString(sum[:]), "states", "us-east-1", time.Now()); err != nil {
			s.t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	if resp.StatusCode != 200 {
		s.t.Fatalf("%s: %d %s", action, resp.StatusCode, raw)
	}
	return out
}

func (s *server) createMachine(name string, def any) string {
	s.t.Helper()
	b, _ := json.Marshal(def)
	out := s.call("CreateStateMachine", map[string]any{"name": name, "definition": string(b), "roleArn": "arn:aws:iam::123456789012:role/stepwell"})
	return out["stateMachineArn"].(string)
}

// waitStatus polls DescribeExecution until the execution is not running.
func (s *server) waitDone(arn string, within time.Duration) string {
	s.t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(within)
	for {
		st := s.call("DescribeExecution", map[string]any{"executionArn": arn})["status"].(string)
		if st != "RUNNING" {
			return st
		}
		select {
		case <-tick.C:
		case <-deadline:
			s.t.Fatalf("%s still running after %s", arn, within)
		}
	}
}

// browser is one headless Chromium tab, with the page's errors collected
// and a numbered screenshot per step.
type browser struct {
	ctx    context.Context
	t      *testing.T
	dir    string
	step   int
	mu     sync.Mutex
	errors []string
	// messages is everything the page wrote to its console; set
	// STEPWELL_BROWSER_LOG=1 to see them in the test's log.
	messages []string
}

func chromiumPath(t *testing.T) string {
	if p := os.Getenv("STEPWELL_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no chromium on the PATH: apt-get install -y chromium (or set STEPWELL_CHROMIUM)")
	return ""
}

func requireBrowserTests(t *testing.T) {
	if os.Getenv("STEPWELL_BROWSER_TEST") != "1" {
		t.Skip("set STEPWELL_BROWSER_TEST=1 to run the browser tests (needs Debian's chromium)")
	}
}

// shared is the one Chromium the tests of the package share; each test has
// a tab in a browser context of its own (its own storage and cookies).
var shared struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.cancel != nil {
		shared.cancel()
	}
	os.Exit(code)
}

func newBrowser(t *testing.T, artifacts string) *browser {
	t.Helper()
	shared.once.Do(func() {
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(chromiumPath(t)),
			chromedp.NoSandbox, // CI runs as root
			chromedp.WindowSize(1400, 1000),
			chromedp.Flag("disable-gpu", true),
		)
		actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, cancelBrowser := chromedp.NewContext(actx)
		shared.ctx = bctx
		shared.cancel = func() {
			cancelBrowser()
			cancelAlloc()
		}
		// The first run starts the browser, on a context without a
		// deadline (a deadline there would end the browser).
		shared.err = chromedp.Do(bctx)
	})
	if shared.err != nil {
		t.Fatalf("start chromium: %v", shared.err)
	}
	ctx, cancel := chromedp.NewContext(shared.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	dir := os.Getenv("STEPWELL_BROWSER_ARTIFACTS")
	if dir == "" {
		dir = "artifacts"
	}
	dir = filepath.Join(dir, artifacts)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b := &browser{ctx: ctx, t: t, dir: dir}
	if os.Getenv("STEPWELL_BROWSER_LOG") == "1" {
		t.Cleanup(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			for _, m := range b.messages {
				t.Log("page: " + m)
			}
		})
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.messages = append(b.messages, m.String())
			// Exceptions, console.error calls and the browser's own errors
			// other than failed loads (the API's 4xx answers the tests ask for).
			if m.IsException() || (m.Type == chromedp.ConsoleError && !strings.HasPrefix(m.Text, "Failed to load resource")) {
				b.errors = append(b.errors, m.String())
			}
			b.mu.Unlock()
		}
	}()
	return b
}

// stepTimeout bounds one step of a test (its own waits are shorter).
const stepTimeout = 90 * time.Second

func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.shot("failed-" + what)
		b.t.Fatalf("%s: %v (page errors: %v)", what, err, b.pageErrors())
	}
}

func (b *browser) pageErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// evalInto evaluates a JavaScript expression into dst.
func evalInto[T any](expr string, dst *T, opts ...chromedp.EvaluateOption) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		v, err := chromedp.Evaluate[T](expr, opts...)(ctx, t)
		if err == nil {
			*dst = v
		}
		return chromedp.Void{}, err
	}
}

// runJS evaluates a JavaScript expression for its effect.
func runJS(expr string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[chromedp.Void](expr, chromedp.EvalIgnoreExceptions)(ctx, t)
		return chromedp.Void{}, err
	}
}

// textInto reads the text of the first element the CSS selector matches.
func textInto(sel string, dst *string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		v, err := chromedp.Text(chromedp.CSS(sel))(ctx, t)
		*dst = v
		return chromedp.Void{}, err
	}
}

// shot writes the next numbered screenshot of the viewport.
func (b *browser) shot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	b.step++
	p := filepath.Join(b.dir, fmt.Sprintf("%02d-%s.png", b.step, name))
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s", p)
}

// waitJS waits until the JavaScript expression is true.
func waitJS(expr string, within time.Duration) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(within), chromedp.WithPollingInterval(25*time.Millisecond))
}

func node(name string) string {
	return fmt.Sprintf(`document.querySelector('#graph [data-state-name=%q]')`, name)
}

func nodeStatus(name, status string) string {
	return fmt.Sprintf(`%s?.dataset.status === %q`, node(name), status)
}

// demoDefinition has every kind of state the issue names: a Wait, a
// Parallel whose failing branch is caught, a Map, a Choice.
var demoDefinition = map[string]any{
	"Comment": "Browser test: Wait, Parallel with a caught failure, Map, Choice",
	"StartAt": "Prepare",
	"States": map[string]any{
		"Prepare":       map[string]any{"Type": "Pass", "Result": map[string]any{"items": []int{1, 2, 3}}, "ResultPath": "$.data", "Next": "Wait a moment"},
		"Wait a moment": map[string]any{"Type": "Wait", "SecondsPath": "$.wait", "Next": "Fan out"},
		"Fan out": map[string]any{
			"Type": "Parallel",
			"Branches": []any{
				map[string]any{"StartAt": "Left", "States": map[string]any{"Left": map[string]any{"Type": "Pass", "End": true}}},
				map[string]any{"StartAt": "Broken", "States": map[string]any{"Broken": map[string]any{"Type": "Fail", "Error": "Oops", "Cause": "the branch failed"}}},
			},
			"Catch": []any{map[string]any{"ErrorEquals": []string{"States.ALL"}, "ResultPath": "$.error", "Next": "Each item"}},
			"Next":  "Each item",
		},
		"Each item": map[string]any{
			"Type": "Map", "ItemsPath": "$.data.items", "ResultPath": "$.mapped", "Next": "Decide",
			"ItemProcessor": map[string]any{"ProcessorConfig": map[string]any{"Mode": "INLINE"}, "StartAt": "Double",
				"States": map[string]any{"Double": map[string]any{"Type": "Pass", "End": true}}},
		},
		"Decide": map[string]any{"Type": "Choice",
			"Choices": []any{map[string]any{"Variable": "$.mapped[0]", "NumericEquals": 1, "Next": "Done"}},
			"Default": "Give up"},
		"Give up": map[string]any{"Type": "Fail", "Error": "Unexpected"},
		"Done":    map[string]any{"Type": "Succeed"},
	},
}

var writeActions = []string{"StartExecution", "StopExecution", "RedriveExecution", "CreateStateMachine", "UpdateStateMachine",
	"DeleteStateMachine", "TagResource", "UntagResource", "PublishStateMachineVersion", "SendTaskSuccess"}

// checkNoWrites fails when the page sent a write action (only the user's
// clicks may).
func (b *browser) checkNoWrites(when string) {
	b.t.Helper()
	var actions []string
	b.run("read actions", evalInto(`window.stepwell.actions`, &actions))
	for _, a := range actions {
		for _, w := range writeActions {
			if a == w {
				b.t.Errorf("%s: the console sent %s without a click (actions: %v)", when, a, actions)
			}
		}
	}
}

// TestConsoleScenario walks through the console as a user would: the list,
// a machine, starting an execution and watching it live, a state's input
// and output, the Table and Event views, Stop and Redrive, and a broken
// definition in the editor.
func TestConsoleScenario(t *testing.T) {
	requireBrowserTests(t)
	s := startServer(t, nil)
	smArn := s.createMachine("console-demo", demoDefinition)
	version := s.call("PublishStateMachineVersion", map[string]any{"stateMachineArn": smArn})["stateMachineVersionArn"].(string)
	s.call("CreateStateMachineAlias", map[string]any{"name": "live", "routingConfiguration": []any{
		map[string]any{"stateMachineVersionArn": version, "weight": 100}}})
	b := newBrowser(t, "scenario")

	// 1. The list of state machines.
	b.run("open the list", chromedp.Navigate(s.url+"/"), waitJS(`document.querySelector('#machines tr[data-name="console-demo"]') !== null`, 10*time.Second),
		waitJS(`document.querySelector('#machines tr[data-name="console-demo"] [data-count="running"]').textContent === '0'`, 10*time.Second))
	b.shot("state-machines")

	// 2. The machine's page: graph with every state, by its address.
	b.run("open the machine", chromedp.Click(chromedp.CSS(`#machines a`)), waitJS(`location.pathname === '/state-machines/' + encodeURIComponent(`+jsString(smArn)+`)`, 5*time.Second),
		waitJS(node("Broken")+` !== null && `+node("Double")+` !== null`, 10*time.Second))
	for _, name := range []string{"Prepare", "Wait a moment", "Fan out", "Left", "Broken", "Each item", "Double", "Decide", "Give up", "Done"} {
		var status string
		b.run("node "+name, evalInto(node(name)+`?.dataset.status ?? 'missing'`, &status))
		if status != "not-started" {
			t.Errorf("machine page: node %q has data-status %q, want not-started", name, status)
		}
	}
	var catchEdges, choiceLabels int
	b.run("edges", evalInto(`document.querySelectorAll('#graph .edge-catch').length`, &catchEdges),
		evalInto(`document.querySelectorAll('#graph .edge-label-choice').length`, &choiceLabels))
	if catchEdges != 1 || choiceLabels != 2 {
		t.Errorf("graph: %d Catch edges (want 1), %d Choice labels (want 2: the rule and Default)", catchEdges, choiceLabels)
	}
	b.run("versions and aliases", waitJS(`document.querySelector('#versions tbody a')?.textContent === '1'`, 5*time.Second),
		waitJS(`/live.*version 1: 100%/.test(document.querySelector('#aliases tbody').textContent)`, 5*time.Second))
	b.shot("state-machine")
	b.checkNoWrites("browsing")
	b.run("a version", chromedp.Click(chromedp.CSS(`#versions tbody a`)),
		waitJS(`document.querySelector('h1')?.textContent === 'console-demo:1' && `+node("Broken")+` !== null`, 10*time.Second),
		chromedp.Click(chromedp.CSS(`.crumbs a[href^="/state-machines/"]`)),
		waitJS(`document.querySelector('h1')?.textContent === 'console-demo' && document.querySelector('#versions') !== null`, 10*time.Second))

	// 3. Start an execution from the console, with an input.
	b.run("start an execution",
		chromedp.Click(chromedp.CSS(`#start-execution`)),
		chromedp.WaitVisible(chromedp.CSS(`#execution-input`)),
		chromedp.SetValue(chromedp.CSS(`#execution-input`), `{"wait": 5}`),
		chromedp.SetValue(chromedp.CSS(`#execution-name`), `from-the-console`))
	b.shot("start-execution")
	b.run("click start", chromedp.Click(chromedp.CSS(`#start`)),
		waitJS(`location.pathname.startsWith('/executions/')`, 10*time.Second))
	var path string
	b.run("execution address", evalInto(`location.pathname`, &path))
	execArn, _ := url.PathUnescape(strings.TrimPrefix(path, "/executions/"))
	if !strings.HasSuffix(execArn, ":execution:console-demo:from-the-console") {
		t.Fatalf("execution page %q, want the execution's URL-encoded ARN", path)
	}

	// 4. Live: the Wait is in progress, then succeeds without a reload.
	b.run("wait in progress", waitJS(nodeStatus("Wait a moment", "in-progress"), 10*time.Second))
	b.run("mark", runJS(`window.__sameDocument = true`))
	b.shot("execution-in-progress")
	b.run("live to succeeded", waitJS(nodeStatus("Wait a moment", "succeeded"), 15*time.Second),
		waitJS(`document.querySelector('#execution-status [data-status="succeeded"]') !== null`, 15*time.Second),
		waitJS(`document.querySelector('main').dataset.live === 'false'`, 5*time.Second))
	var same bool
	b.run("same document", evalInto(`window.__sameDocument === true`, &same))
	if !same {
		t.Error("the page reloaded instead of updating live")
	}
	want := map[string]string{"Prepare": "succeeded", "Wait a moment": "succeeded", "Fan out": "caught", "Broken": "failed",
		"Each item": "succeeded", "Double": "succeeded", "Decide": "succeeded", "Done": "succeeded", "Give up": "not-started"}
	for name, st := range want {
		var got string
		b.run("status "+name, evalInto(node(name)+`?.dataset.status ?? 'missing'`, &got))
		if got != st {
			t.Errorf("execution: node %q is %q, want %q", name, got, st)
		}
	}
	b.shot("execution-succeeded-caught-failed")

	// The timeline replays the colours as of an event: the 4th entered the Wait.
	b.run("timeline", runJS(`{ const r = document.querySelector('#timeline'); r.value = 4; r.dispatchEvent(new Event('input')) }`),
		waitJS(nodeStatus("Wait a moment", "in-progress")+` && `+nodeStatus("Done", "not-started")+` && `+nodeStatus("Prepare", "succeeded"), 5*time.Second))
	b.shot("timeline-replay")
	b.run("timeline back", runJS(`{ const r = document.querySelector('#timeline'); r.value = r.max; r.dispatchEvent(new Event('input')) }`),
		waitJS(nodeStatus("Done", "succeeded"), 5*time.Second))

	// 5. A state's input and output; a caught state's error and cause.
	b.run("select Prepare", chromedp.Click(chromedp.CSS(`#graph [data-state-name="Prepare"]`)),
		waitJS(`document.querySelector('#state-details .state-output')?.textContent.includes('"items"')`, 5*time.Second))
	var in, out string
	b.run("read input and output", textInto(`#state-details .state-input`, &in), textInto(`#state-details .state-output`, &out))
	if !strings.Contains(in, `"wait": 5`) || !strings.Contains(out, `"data"`) {
		t.Errorf("Prepare: input %q, output %q", in, out)
	}
	b.shot("state-input-output")
	b.run("select Fan out", chromedp.Click(chromedp.CSS(`#graph [data-state-name="Fan out"] .node-name`)),
		waitJS(`document.querySelector('#selected-status')?.dataset.status === 'caught'`, 5*time.Second),
		waitJS(`document.querySelector('#state-error')?.textContent === 'Oops'`, 5*time.Second))
	b.shot("state-caught-error")

	// A Map's iterations: the graph coloured for one, its states' runs.
	b.run("map iteration", chromedp.Click(chromedp.CSS(`#graph [data-state-name="Each item"] .node-name`)),
		chromedp.WaitVisible(chromedp.CSS(`#iteration-select`)),
		runJS(`{ const s = document.querySelector('#iteration-select'); s.value = '1'; s.dispatchEvent(new Event('change')) }`),
		waitJS(`document.querySelector('#iteration-note').textContent.includes('iteration 1 of Each item')`, 5*time.Second),
		chromedp.Click(chromedp.CSS(`#graph [data-state-name="Double"] .node-name`)),
		waitJS(`document.querySelector('#entry-select').selectedOptions[0].textContent.startsWith('Iteration 1 ')`, 5*time.Second),
		waitJS(`document.querySelector('#state-details .state-input')?.textContent.trim() === '2'`, 5*time.Second))
	b.shot("map-iteration")
	b.run("all iterations", chromedp.Click(chromedp.CSS(`#iteration-note button`)),
		waitJS(`document.querySelector('#iteration-note').textContent === ''`, 5*time.Second))

	// 6. The Table view (sortable) and the Event view.
	b.run("table view", chromedp.Click(chromedp.CSS(`#tab-table`)), waitJS(`document.querySelectorAll('#state-table tbody tr').length >= 8`, 5*time.Second),
		chromedp.Click(chromedp.CSS(`#state-table button[data-sort="name"]`)),
		waitJS(`document.querySelector('#state-table tbody tr').dataset.stateRow === 'Broken'`, 5*time.Second))
	b.shot("table-view")
	b.run("event view", chromedp.Click(chromedp.CSS(`#tab-events`)), waitJS(`document.querySelectorAll('#events .event-row').length > 10`, 5*time.Second),
		chromedp.SetValue(chromedp.CSS(`#event-filter`), "failures"),
		runJS(`document.querySelector('#event-filter').dispatchEvent(new Event('change'))`),
		waitJS(`[...document.querySelectorAll('#events .event-row')].every(r => /Failed|Aborted|TimedOut/.test(r.textContent))`, 5*time.Second))
	b.shot("event-view-failures")
	var exported int
	b.run("export", chromedp.Click(chromedp.CSS(`#export`)), evalInto(`window.stepwell.exported ?? 0`, &exported))
	if exported < 20 {
		t.Errorf("export: %d events exported", exported)
	}

	// 7. Stop and Redrive an execution.
	longArn := s.createMachine("long-wait", map[string]any{"StartAt": "Sleep", "States": map[string]any{
		"Sleep": map[string]any{"Type": "Wait", "Seconds": 3600, "Next": "Done"}, "Done": map[string]any{"Type": "Succeed"}}})
	x := s.call("StartExecution", map[string]any{"stateMachineArn": longArn, "name": "stop-me"})["executionArn"].(string)
	b.run("open the long execution", chromedp.Navigate(s.url+"/executions/"+url.PathEscape(x)),
		waitJS(nodeStatus("Sleep", "in-progress"), 10*time.Second))
	b.checkNoWrites("opening an execution")
	b.run("stop", chromedp.Click(chromedp.CSS(`#stop`)), chromedp.WaitVisible(chromedp.CSS(`#confirm`)))
	b.shot("stop-confirm")
	b.run("confirm stop", chromedp.Click(chromedp.CSS(`#confirm`)),
		waitJS(`document.querySelector('#execution-status [data-status="aborted"]') !== null`, 10*time.Second),
		waitJS(nodeStatus("Sleep", "aborted"), 5*time.Second))
	b.shot("stopped")
	b.run("redrive", chromedp.Click(chromedp.CSS(`#redrive`)), chromedp.WaitVisible(chromedp.CSS(`#confirm`)), chromedp.Click(chromedp.CSS(`#confirm`)),
		waitJS(`document.querySelector('#execution-status [data-status="in-progress"]') !== null`, 10*time.Second),
		waitJS(nodeStatus("Sleep", "in-progress"), 5*time.Second))
	b.shot("redriven")
	// Each event once, though the poller and the clicks both read new events.
	n := len(s.call("GetExecutionHistory", map[string]any{"executionArn": x})["events"].([]any))
	b.run("no event twice", waitJS(fmt.Sprintf(`document.querySelector('#timeline').max === '%d'`, n), 5*time.Second))
	if st := s.call("DescribeExecution", map[string]any{"executionArn": x}); st["status"] != "RUNNING" || st["redriveCount"] != float64(1) {
		t.Errorf("after Redrive: status %v, redriveCount %v", st["status"], st["redriveCount"])
	}
	s.call("StopExecution", map[string]any{"executionArn": x})

	// 8. Activities: a task waiting, then a worker fails it once (retried)
	// and completes it; Map Runs of a Distributed Map.
	act := s.call("CreateActivity", map[string]any{"name": "work"})["activityArn"].(string)
	workArn := s.createMachine("activity-work", map[string]any{"StartAt": "Work", "States": map[string]any{
		"Work": map[string]any{"Type": "Task", "Resource": act, "End": true,
			"Retry": []any{map[string]any{"ErrorEquals": []string{"Worker.Busy"}, "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1}}}}})
	wx := s.call("StartExecution", map[string]any{"stateMachineArn": workArn, "name": "worked"})["executionArn"].(string)
	b.run("activities", chromedp.Navigate(s.url+"/activities"),
		waitJS(`document.querySelector('#activities [data-waiting]')?.textContent === '1'`, 10*time.Second))
	b.shot("activities")
	token := s.call("GetActivityTask", map[string]any{"activityArn": act})["taskToken"].(string)
	s.call("SendTaskFailure", map[string]any{"taskToken": token, "error": "Worker.Busy", "cause": "try again"})
	token = s.call("GetActivityTask", map[string]any{"activityArn": act})["taskToken"].(string)
	s.call("SendTaskSuccess", map[string]any{"taskToken": token, "output": `{"done": true}`})
	if st := s.waitDone(wx, 30*time.Second); st != "SUCCEEDED" {
		t.Fatalf("activity execution: %s", st)
	}
	b.run("retried task", chromedp.Navigate(s.url+"/executions/"+url.PathEscape(wx)),
		waitJS(nodeStatus("Work", "succeeded"), 10*time.Second),
		waitJS(node("Work")+`.querySelector('.status-icon').textContent.includes('↻1')`, 5*time.Second),
		chromedp.Click(chromedp.CSS(`#graph [data-state-name="Work"] .node-name`)),
		waitJS(`document.querySelector('#state-retries')?.textContent === '1'`, 5*time.Second))
	b.shot("task-retried")

	distArn := s.createMachine("distributed", map[string]any{"StartAt": "Spread", "States": map[string]any{
		"Spread": map[string]any{"Type": "Map", "ItemsPath": "$.items", "End": true,
			"ItemProcessor": map[string]any{"ProcessorConfig": map[string]any{"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
				"StartAt": "One", "States": map[string]any{"One": map[string]any{"Type": "Pass", "End": true}}}}}})
	dx := s.call("StartExecution", map[string]any{"stateMachineArn": distArn, "input": `{"items": [1, 2, 3]}`})["executionArn"].(string)
	if st := s.waitDone(dx, 30*time.Second); st != "SUCCEEDED" {
		t.Fatalf("distributed execution: %s", st)
	}
	b.run("map runs", chromedp.Navigate(s.url+"/executions/"+url.PathEscape(dx)), waitJS(nodeStatus("Spread", "succeeded"), 10*time.Second),
		chromedp.Click(chromedp.CSS(`a[href^="/map-runs/"]`)),
		waitJS(`document.querySelector('.maprun progress')?.value === 3 && document.querySelector('.maprun').textContent.includes('succeeded 3')`, 10*time.Second),
		waitJS(`document.querySelectorAll('.maprun a[href^="/executions/"]').length === 3`, 10*time.Second))
	b.shot("map-runs")
	// From the Distributed Map state: its Map Run and its child executions,
	// each a link to its own page (graph of the ItemProcessor, its history),
	// which links back to the parent.
	b.run("child executions from the state", chromedp.Navigate(s.url+"/executions/"+url.PathEscape(dx)), waitJS(nodeStatus("Spread", "succeeded"), 10*time.Second),
		chromedp.Click(chromedp.CSS(`#graph [data-state-name="Spread"] .node-name`)),
		waitJS(`document.querySelector('#state-children')?.dataset.loaded === 'true' && document.querySelectorAll('#state-children a.child-link').length === 3`, 10*time.Second),
		waitJS(`document.querySelector('#state-map-run')?.getAttribute('href').startsWith('/map-runs/')`, 5*time.Second))
	b.shot("map-state-children")
	b.run("open a child execution", chromedp.Click(chromedp.CSS(`#state-children a.child-link`)),
		waitJS(nodeStatus("One", "succeeded"), 10*time.Second),
		waitJS(fmt.Sprintf(`document.querySelector('#execution-status')?.textContent.includes('succeeded') && document.querySelector('#parent-execution')?.getAttribute('href') === '/executions/' + encodeURIComponent(%q) && document.querySelector('.crumbs a[href^="/state-machines/"]:not([href="/state-machines"])')?.getAttribute('href') === '/state-machines/' + encodeURIComponent(%q)`, dx, distArn), 10*time.Second))
	b.shot("child-execution")
	// EXPRESS children are listed too; their page shows what
	// DescribeExecution tells (an EXPRESS child keeps no history, as on AWS).
	expArn := s.createMachine("distributed-express", map[string]any{"StartAt": "Spread", "States": map[string]any{
		"Spread": map[string]any{"Type": "Map", "ItemsPath": "$.items", "End": true,
			"ItemProcessor": map[string]any{"ProcessorConfig": map[string]any{"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
				"StartAt": "One", "States": map[string]any{"One": map[string]any{"Type": "Pass", "End": true}}}}}})
	ex := s.call("StartExecution", map[string]any{"stateMachineArn": expArn, "input": `{"items": ["a", "b"]}`})["executionArn"].(string)
	if st := s.waitDone(ex, 30*time.Second); st != "SUCCEEDED" {
		t.Fatalf("distributed express execution: %s", st)
	}
	b.run("express children from the state", chromedp.Navigate(s.url+"/executions/"+url.PathEscape(ex)), waitJS(nodeStatus("Spread", "succeeded"), 10*time.Second),
		chromedp.Click(chromedp.CSS(`#graph [data-state-name="Spread"] .node-name`)),
		waitJS(`document.querySelector('#state-children')?.dataset.loaded === 'true' && document.querySelectorAll('#state-children a.child-link').length === 2`, 10*time.Second),
		chromedp.Click(chromedp.CSS(`#state-children a.child-link`)),
		waitJS(`document.querySelector('#no-history') !== null && document.querySelector('#execution-status')?.textContent.includes('succeeded') && document.querySelector('#parent-execution') !== null && document.querySelector('#export') === null`, 10*time.Second))
	b.shot("express-child-execution")

	// 9. The editor: a broken definition shows its diagnostics at their lines.
	broken := "{\n  \"StartAt\": \"A\",\n  \"States\": {\n    \"A\": {\n      \"Type\": \"Pass\",\n      \"Next\": \"Nowhere\"\n    }\n  }\n}"
	b.run("open the editor", chromedp.Navigate(s.url+"/editor"), waitJS(`document.querySelector('#validation')?.dataset.result === 'OK'`, 10*time.Second))
	b.run("type a broken definition", chromedp.SetValue(chromedp.CSS(`#definition`), broken),
		runJS(`document.querySelector('#definition').dispatchEvent(new Event('input'))`),
		waitJS(`document.querySelector('#validation')?.dataset.result === 'FAIL'`, 10*time.Second))
	var diag string
	var line int
	b.run("diagnostics", textInto(`#diagnostics li`, &diag),
		evalInto(`Number(document.querySelector('#diagnostics li').dataset.line)`, &line))
	if !strings.Contains(diag, "MISSING_TRANSITION_TARGET") || line != 6 {
		t.Errorf("diagnostic %q at line %d, want MISSING_TRANSITION_TARGET at line 6 (\"Next\": \"Nowhere\")", diag, line)
	}
	var marked bool
	b.run("gutter", evalInto(`document.querySelector('.editor-gutter [data-line="6"]').classList.contains('mark-error')`, &marked))
	if !marked {
		t.Error("line 6 is not marked in the editor's gutter")
	}
	b.shot("editor-diagnostics")
	b.run("fix it", chromedp.SetValue(chromedp.CSS(`#definition`), strings.Replace(broken, `"Next": "Nowhere"`, `"End": true`, 1)),
		runJS(`document.querySelector('#definition').dispatchEvent(new Event('input'))`),
		waitJS(`document.querySelector('#validation')?.dataset.result === 'OK'`, 10*time.Second))
	b.checkNoWrites("editing")
	// Create the machine from the editor, then update it.
	b.run("create from the editor", chromedp.SetValue(chromedp.CSS(`#machine-name`), "from-the-editor"),
		chromedp.Click(chromedp.CSS(`#save`)),
		waitJS(`location.pathname === '/state-machines/' + encodeURIComponent('arn:aws:states:us-east-1:123456789012:stateMachine:from-the-editor')`, 10*time.Second),
		waitJS(node("A")+` !== null`, 10*time.Second))
	b.run("edit it", chromedp.Click(chromedp.CSS(`a[href^="/editor?stateMachineArn="]`)),
		waitJS(`document.querySelector('#validation')?.dataset.result === 'OK'`, 10*time.Second),
		chromedp.SetValue(chromedp.CSS(`#definition`), `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Succeed"}}}`),
		runJS(`document.querySelector('#definition').dispatchEvent(new Event('input'))`),
		waitJS(`document.querySelector('#validation')?.dataset.result === 'OK' && `+node("B")+` !== null`, 10*time.Second))
	b.shot("editor-update")
	b.run("update", chromedp.Click(chromedp.CSS(`#save`)),
		waitJS(`location.pathname.startsWith('/state-machines/') && `+node("B")+` !== null`, 10*time.Second))
	if def := s.call("DescribeStateMachine", map[string]any{"stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:from-the-editor"})["definition"].(string); !strings.Contains(def, `"B"`) {
		t.Errorf("after Update: definition %s", def)
	}

	// 10. Dark theme, keyboard: the graph's nodes take the focus.
	b.run("dark theme", chromedp.Navigate(s.url+"/executions/"+url.PathEscape(execArn)), waitJS(node("Done")+` !== null`, 10*time.Second),
		chromedp.Click(chromedp.CSS(`#theme`)), waitJS(`document.documentElement.dataset.theme === 'dark'`, 2*time.Second),
		chromedp.Focus(chromedp.CSS(`#graph [data-state-name="Decide"]`)),
		chromedp.KeyEvent("\r"),
		waitJS(`document.querySelector('#state-details h3')?.textContent === 'Decide'`, 5*time.Second))
	b.shot("dark-theme-keyboard")

	if errs := b.pageErrors(); len(errs) > 0 {
		t.Errorf("the page reported errors: %v", errs)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestSigV4_MatchesSDK: a request the console signs (sigv4.js, WebCrypto)
// carries the signature the AWS SDK for Go computes for it.
func TestSigV4_MatchesSDK(t *testing.T) {
	requireBrowserTests(t)
	s := startServer(t, nil)
	b := newBrowser(t, "sigv4")
	const (
		key, secret, region = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1"
		body                = `{"maxResults":10}`
	)
	when := time.Date(2026, 12, 7, 1, 2, 3, 0, time.UTC)
	var got map[string]string
	js := fmt.Sprintf(`import('/assets/sigv4.js').then((m) => m.sign({accessKeyId: %q, secretAccessKey: %q, region: %q},
		{host: '127.0.0.1:8083', body: %s, headers: {'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': 'AWSStepFunctions.ListStateMachines'},
		 date: new Date(%q)}))`, key, secret, region, jsString(body), when.Format(time.RFC3339))
	b.run("sign in the browser", chromedp.Navigate(s.url+"/"), evalInto(js, &got, chromedp.EvalAwaitPromise))
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:8083/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "AWSStepFunctions.ListStateMachines")
	sum := sha256.Sum256([]byte(body))
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}, req,
		hex.EncodeToString(sum[:]), "states", region, when)
	if err != nil {
		t.Fatal(err)
	}
	if got["Authorization"] != req.Header.Get("Authorization") || got["X-Amz-Date"] != req.Header.Get("X-Amz-Date") {
		t.Errorf("browser signed\n  %q (%s)\nthe SDK signs\n  %q (%s)", got["Authorization"], got["X-Amz-Date"],
			req.Header.Get("Authorization"), req.Header.Get("X-Amz-Date"))
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestConsoleSignIn: against a server that verifies SigV4 (--credentials),
// the console asks to sign in, then signs every request with the key the
// user entered: it lists, starts an execution and watches it; a wrong
// secret is refused with AWS's error.
func TestConsoleSignIn(t *testing.T) {
	requireBrowserTests(t)
	const key, secret = "AKIACONSOLETEST", "console-test-secret-key"
	file := filepath.Join(t.TempDir(), "credentials.json")
	if err := os.WriteFile(file, []byte(fmt.Sprintf(`{"accessKeys": [{"accessKeyId": %q, "secretAccessKey": %q, "name": "console"}]}`, key, secret)), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, func(c *app.Config) { c.Credentials = file })
	s.creds = &aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}
	s.createMachine("signed", map[string]any{"StartAt": "P", "States": map[string]any{"P": map[string]any{"Type": "Pass", "End": true}}})
	b := newBrowser(t, "sign-in")

	b.run("unsigned", chromedp.Navigate(s.url+"/"),
		waitJS(`!document.querySelector('#banner').hidden && document.querySelector('#banner').textContent.includes('sign in')`, 10*time.Second))
	b.shot("asks-to-sign-in")
	signIn := func(secret string) {
		b.run("sign in", chromedp.Click(chromedp.CSS(`#signin`)), chromedp.WaitVisible(chromedp.CSS(`dialog input[name="accessKeyId"]`)),
			chromedp.SetValue(chromedp.CSS(`dialog input[name="accessKeyId"]`), key),
			chromedp.SetValue(chromedp.CSS(`dialog input[name="secretAccessKey"]`), secret))
		b.shot("sign-in")
		b.run("submit", chromedp.Click(chromedp.CSS(`#signin-submit`)))
	}
	signIn("not-the-secret")
	b.run("refused", waitJS(`document.querySelector('#banner').textContent.includes('InvalidSignatureException')`, 10*time.Second))
	signIn(secret)
	b.run("signed list", waitJS(`document.querySelector('#machines tr[data-name="signed"]') !== null && document.querySelector('#banner').hidden`, 10*time.Second),
		chromedp.Click(chromedp.CSS(`#machines a`)), chromedp.WaitVisible(chromedp.CSS(`#start-execution`)),
		chromedp.Click(chromedp.CSS(`#start-execution`)), chromedp.WaitVisible(chromedp.CSS(`#start`)), chromedp.Click(chromedp.CSS(`#start`)),
		waitJS(nodeStatus("P", "succeeded"), 10*time.Second))
	b.shot("signed-execution")
	if got := s.call("ListExecutions", map[string]any{"stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:signed"})["executions"].([]any); len(got) != 1 {
		t.Errorf("executions started from the signed-in console: %d, want 1", len(got))
	}
	if errs := b.pageErrors(); len(errs) > 0 {
		t.Errorf("the page reported errors: %v", errs)
	}
}

// TestListsAndPaging: the list's search, and a machine's executions by
// page (20 a page) and by status.
func TestListsAndPaging(t *testing.T) {
	requireBrowserTests(t)
	s := startServer(t, nil)
	pass := map[string]any{"StartAt": "P", "States": map[string]any{"P": map[string]any{"Type": "Pass", "End": true}}}
	fail := map[string]any{"StartAt": "F", "States": map[string]any{"F": map[string]any{"Type": "Fail", "Error": "No"}}}
	many := s.createMachine("many-runs", pass)
	s.createMachine("another", pass)
	failing := s.createMachine("failing", fail)
	var last string
	for i := 0; i < 23; i++ {
		last = s.call("StartExecution", map[string]any{"stateMachineArn": many, "name": fmt.Sprintf("run-%02d", i)})["executionArn"].(string)
	}
	s.waitDone(last, 30*time.Second)
	f := s.call("StartExecution", map[string]any{"stateMachineArn": failing})["executionArn"].(string)
	s.waitDone(f, 30*time.Second)
	b := newBrowser(t, "lists")

	b.run("list", chromedp.Navigate(s.url+"/"),
		waitJS(`document.querySelector('#machines tr[data-name="failing"] [data-count="failed"]')?.textContent === '1'`, 10*time.Second),
		chromedp.SetValue(chromedp.CSS(`#main input[type=search]`), "MANY"),
		runJS(`document.querySelector('#main input[type=search]').dispatchEvent(new Event('input'))`),
		waitJS(`[...document.querySelectorAll('#machines tbody tr')].filter((r) => !r.hidden).map((r) => r.dataset.name).join() === 'many-runs'`, 5*time.Second))
	b.shot("search")
	b.run("first page", chromedp.Navigate(s.url+"/state-machines/"+url.PathEscape(many)),
		waitJS(`document.querySelectorAll('#executions tbody tr').length === 20`, 10*time.Second),
		chromedp.Click(chromedp.CSS(`#main .toolbar button:last-of-type`)),
		waitJS(`document.querySelectorAll('#executions tbody tr').length === 3`, 10*time.Second))
	b.shot("second-page")
	b.run("filter", runJS(`{ const s = document.querySelector('#status-filter'); s.value = 'FAILED'; s.dispatchEvent(new Event('change')) }`),
		waitJS(`document.querySelector('#executions tbody').textContent.includes('No executions.')`, 10*time.Second),
		runJS(`{ const s = document.querySelector('#status-filter'); s.value = 'SUCCEEDED'; s.dispatchEvent(new Event('change')) }`),
		waitJS(`document.querySelectorAll('#executions tbody tr').length === 20`, 10*time.Second))
	b.checkNoWrites("browsing lists")
	if errs := b.pageErrors(); len(errs) > 0 {
		t.Errorf("the page reported errors: %v", errs)
	}
}
