// Package hostile is Stepwell's hostile-input suite: it runs the real
// `stepwell serve` binary with a 512 MiB memory budget and sends it
// hundreds of bad requests and definitions, as an attacker or a careless
// client would: malformed bodies for every operation, oversize bodies and
// values, deep nesting, intrinsic, template and JSONata amplification,
// huge Map and Parallel fan-outs with large selectors, forged and replayed
// task tokens and page tokens. It checks that no request is answered with
// a 5xx, that the process never panics nor hangs, that its resident memory
// (VmRSS sampled every 10 ms, and VmHWM) never passes the budget, and that
// every execution ends with its terminal event as the last of its history.
// TestDiskFull (diskfull_test.go) fills the store's disk under running
// executions and checks that they continue once space returns.
//
// The suite takes about a minute and runs only when STEPWELL_HOSTILE_TEST=1
// (scripts/test.sh sets it).
package hostile

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	role   = "arn:aws:iam::123456789012:role/hostile"
	budget = 512 << 20
)

func skipUnlessEnabled(t *testing.T) {
	if os.Getenv("STEPWELL_HOSTILE_TEST") != "1" {
		t.Skip("set STEPWELL_HOSTILE_TEST=1 to run the hostile-input suite (about a minute)")
	}
}

// operations are every operation of the API.
var operations = strings.Fields(`CreateStateMachine DescribeStateMachine UpdateStateMachine DeleteStateMachine
ListStateMachines ValidateStateMachineDefinition StartExecution StartSyncExecution StopExecution DescribeExecution
ListExecutions GetExecutionHistory DescribeStateMachineForExecution ListTagsForResource TagResource UntagResource
PublishStateMachineVersion ListStateMachineVersions DeleteStateMachineVersion CreateStateMachineAlias
DescribeStateMachineAlias UpdateStateMachineAlias DeleteStateMachineAlias ListStateMachineAliases DescribeMapRun
ListMapRuns UpdateMapRun TestState RedriveExecution CreateActivity DescribeActivity DeleteActivity ListActivities
GetActivityTask SendTaskSuccess SendTaskFailure SendTaskHeartbeat`)

// request is one bad request: the answer must not be a 5xx, and, when
// wantType is set, must be that error.
type request struct {
	name     string
	op       string
	body     []byte
	hdr      map[string]string
	wantType string
}

// malformedBodies are bodies no operation accepts (or accepts harmlessly).
func malformedBodies() []struct {
	name string
	body []byte
} {
	rng := rand.New(rand.NewPCG(1, 2))
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(rng.IntN(256))
	}
	deep := strings.Repeat(`{"a":`, 100_000) + "1" + strings.Repeat("}", 100_000)
	return []struct {
		name string
		body []byte
	}{
		{"empty", nil},
		{"truncated", []byte(`{"stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:x", "na`)},
		{"array", []byte(`[1,2,3]`)},
		{"null", []byte(`null`)},
		{"deep nesting", []byte(`{"name":` + deep + `}`)},
		{"binary garbage", garbage},
		{"wrong types", []byte(`{"stateMachineArn":{"x":1},"executionArn":12,"name":[1],"maxResults":"ten","nextToken":5,"definition":true,"taskToken":[],"input":{},"activityArn":null}`)},
		{"huge numbers", []byte(`{"maxResults":99999999999999999999999999,"mapRunArn":"x","maxConcurrency":-1e308,"toleratedFailurePercentage":1e999}`)},
		{"invalid UTF-8", []byte("{\"name\":\"\xff\xfe\xfd\",\"stateMachineArn\":\"arn:aws:states:us-east-1:123456789012:stateMachine:\xc3\x28\"}")},
		{"long strings", []byte(`{"stateMachineArn":"` + strings.Repeat("a", 200_000) + `","executionArn":"` + strings.Repeat("b", 100_000) + `","name":"` + strings.Repeat("n", 50_000) + `"}`)},
	}
}

// requests are the bad requests that need no setup.
func requests() []request {
	var rs []request
	for _, op := range operations {
		for _, b := range malformedBodies() {
			rs = append(rs, request{name: op + "/" + b.name, op: op, body: b.body})
		}
	}
	big := strings.Repeat("x", 2<<20)
	defOf := func(states string) string { return `{"StartAt":"A","States":{` + states + `}}` }
	create := func(name, def string) []byte {
		b, _ := json.Marshal(map[string]any{"name": name, "definition": def, "roleArn": role})
		return b
	}
	rs = append(rs,
		request{name: "no target", body: []byte(`{}`), wantType: "UnknownOperationException"},
		request{name: "unknown target", op: "MineBitcoin", body: []byte(`{}`), wantType: "UnknownOperationException"},
		request{name: "wrong content type", op: "ListStateMachines", body: []byte(`{}`), hdr: map[string]string{"Content-Type": "text/plain"}},
		request{name: "gzip lie", op: "ListStateMachines", body: []byte(`{}`), hdr: map[string]string{"Content-Encoding": "gzip"}},
		request{name: "2 MiB body", op: "CreateStateMachine", body: []byte(`{"name":"big","roleArn":"` + role + `","definition":"` + big + `"}`)},
		request{name: "8 MiB body", op: "StartExecution", body: []byte(`{"stateMachineArn":"x","input":"` + strings.Repeat(big, 4) + `"}`)},
		request{name: "definition over 1 MB", op: "CreateStateMachine",
			body: create("big-def", defOf(`"A":{"Type":"Pass","Result":"`+strings.Repeat("y", 1_100_000)+`","End":true}`))},
		request{name: "definition nested 10000 deep", op: "CreateStateMachine", body: create("deep-def", nestedParallel(10_000))},
		request{name: "definition with a cycle", op: "CreateStateMachine", body: create("cycle", defOf(`"A":{"Type":"Pass","Next":"A"}`))},
		request{name: "definition with a bad path", op: "CreateStateMachine", body: create("badpath", defOf(`"A":{"Type":"Pass","InputPath":"$..[?(@.a=="+strings.Repeat("(", 5000)+")]","End":true}`)), wantType: "InvalidDefinition"},
		request{name: "definition with a bad intrinsic", op: "CreateStateMachine", body: create("badfn", defOf(`"A":{"Type":"Pass","Parameters":{"a.$":"States.Format(`+strings.Repeat("States.Array(", 3000)+`"},"End":true}`)), wantType: "InvalidDefinition"},
		request{name: "definition with a bad JSONata", op: "CreateStateMachine", body: create("badjsonata", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Output":"{% `+strings.Repeat("(", 20000)+` %}","End":true}}}`), wantType: "InvalidDefinition"},
		request{name: "definition of 20000 Choice rules", op: "ValidateStateMachineDefinition", body: mustJSON(map[string]any{"definition": manyChoices(20000)})},
		request{name: "definition not JSON", op: "CreateStateMachine", body: create("notjson", `{"StartAt":`), wantType: "InvalidDefinition"},
		request{name: "definition a JSON string", op: "CreateStateMachine", body: create("string", `"hello"`), wantType: "InvalidDefinition"},
		request{name: "name too long", op: "CreateStateMachine", body: create(strings.Repeat("n", 81), defOf(`"A":{"Type":"Succeed"}`)), wantType: "ValidationException"},
		request{name: "name with control characters", op: "CreateStateMachine", body: create("a\u0001b", defOf(`"A":{"Type":"Succeed"}`)), wantType: "InvalidName"},
		request{name: "definition of JSONata compiling to 500 times its size", op: "CreateStateMachine", body: create("jsonata-ast", jsonataStates(250, 1900)), wantType: "InvalidDefinition"},
		request{name: "validate JSONata compiling to 500 times its size", op: "ValidateStateMachineDefinition", body: mustJSON(map[string]any{"definition": jsonataStates(250, 1900)})},
		request{name: "TestState amplification", op: "TestState", body: mustJSON(map[string]any{"roleArn": role, "input": `{"s":"` + strings.Repeat("x", 5000) + `"}`,
			"definition": `{"Type":"Pass","Parameters":{"r.$":"` + nestedFormat(8) + `"},"End":true}`})},
		request{name: "TestState JSONata amplification", op: "TestState", body: mustJSON(map[string]any{"roleArn": role, "input": `{"s":"` + strings.Repeat("x", 5000) + `"}`,
			"definition": `{"QueryLanguage":"JSONata","Type":"Pass","Output":"{% $reduce([1..40], function($a){$a & $a}, $states.input.s) %}","End":true}`})},
		request{name: "TestState deep input", op: "TestState", body: mustJSON(map[string]any{"roleArn": role, "input": strings.Repeat("[", 50_000) + strings.Repeat("]", 50_000),
			"definition": `{"Type":"Pass","End":true}`})},
	)
	// Definitions that compile to many times their size, created again
	// and again: the server must not keep them all.
	for i := range 24 {
		rs = append(rs, request{name: fmt.Sprint("definition of nested intrinsics ", i), op: "CreateStateMachine",
			body: create(fmt.Sprint("nested-", i), defOf(`"A":{"Type":"Pass","Parameters":{"r.$":"`+nestedFormat(8)+`"},"End":true}`))})
	}
	return rs
}

// jsonataStates is a definition of n Pass states whose Output is a JSONata
// sum of terms ones.
func jsonataStates(n, terms int) string {
	var b strings.Builder
	b.WriteString(`{"QueryLanguage":"JSONata","StartAt":"S0","States":{`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		next := fmt.Sprintf(`"Next":"S%d"`, i+1)
		if i == n-1 {
			next = `"End":true`
		}
		fmt.Fprintf(&b, `"S%d":{"Type":"Pass","Output":"{%% %s1 %%}",%s}`, i, strings.Repeat("1+", terms), next)
	}
	b.WriteString(`}}`)
	return b.String()
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// nestedFormat is States.Format nested depth deep over $.s, each level
// repeating the one inside it four times: 8 deep, a 5 KB input makes a
// 327 MB string.
func nestedFormat(depth int) string {
	e := "$.s"
	for range depth {
		e = "States.Format('{}{}{}{}', " + strings.Repeat(e+", ", 3) + e + ")"
	}
	return e
}

// nestedParallel is a definition of Parallel states nested depth deep.
func nestedParallel(depth int) string {
	s := `{"StartAt":"L","States":{"L":{"Type":"Pass","End":true}}}`
	for i := range depth {
		s = fmt.Sprintf(`{"StartAt":"P%d","States":{"P%d":{"Type":"Parallel","Branches":[%s],"End":true}}}`, i, i, s)
	}
	return s
}

func manyChoices(n int) string {
	var b strings.Builder
	b.WriteString(`{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"Variable":"$.v","NumericEquals":%d,"Next":"D"}`, i)
	}
	b.WriteString(`],"Default":"D"},"D":{"Type":"Succeed"}}}`)
	return b.String()
}

// run is a hostile execution: it must end (no hang) with its terminal
// event last in its history, with wantError when set.
type run struct {
	name, def, input string
	wantError        string // "" for any end, "-" for success
}

func runs() []run {
	s5 := `{"s":"` + strings.Repeat("x", 5000) + `"}`
	s25 := `{"s":"` + strings.Repeat("x", 25000) + `"}`
	s200 := strings.Repeat("x", 200_000)
	items := func(n int, extra string) string {
		return `{"items":[` + strings.Repeat("0,", n-1) + `0]` + extra + `}`
	}
	pass := func(params string) string {
		return `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":` + params + `,"End":true}}}`
	}
	jsonata := func(expr string) string {
		return `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":"{% ` + expr + ` %}","End":true}}}`
	}
	const limit = "States.DataLimitExceeded"
	rs := []run{
		{"nested Format 8, 5 KB", pass(`{"r.$":"` + nestedFormat(8) + `"}`), s5, limit},
		{"nested Format 8, 25 KB", pass(`{"r.$":"` + nestedFormat(8) + `"}`), s25, limit},
		{"nested Format 4, 5 KB", pass(`{"r.$":"` + nestedFormat(4) + `"}`), s5, limit},
		{"wide template", pass(wideTemplate(64)), `{"s":"` + s200 + `"}`, limit},
		{"many built fields", pass(manyFormats(1000)), `{"s":"` + s200 + `"}`, limit},
		{"ArrayRange of a billion", pass(`{"r.$":"States.ArrayRange(0, 1000000000, 1)"}`), `{}`, "States.Runtime"},
		{"ArrayRange nested", pass(`{"r.$":"States.ArrayPartition(States.ArrayRange(0, 999, 1), 1)"}`), `{}`, "-"},
		{"StringSplit of 200 KB", pass(`{"r.$":"States.StringSplit($.s, '')"}`), `{"s":"` + s200 + `"}`, ""},
		{"Base64 chain", pass(`{"r.$":"States.Base64Encode(States.Base64Encode(States.Base64Encode(States.Base64Encode($.s))))"}`), `{"s":"` + s200 + `"}`, ""},
		{"JsonToString of deep input", pass(`{"r.$":"States.JsonToString($)"}`), strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000), ""},
		{"Hash of 200 KB", pass(`{"r.$":"States.Hash($.s, 'SHA-512')"}`), `{"s":"` + s200 + `"}`, ""},
		{"ArrayUnique of 200 KB", pass(`{"r.$":"States.ArrayUnique(States.StringSplit($.s, ''))"}`), `{"s":"` + s200 + `"}`, ""},
		{"JSONata doubling", jsonata(`$reduce([1..40], function($a){$a & $a}, $states.input.s)`), s5, ""},
		{"JSONata pad", jsonata(`$pad('', 1000000000)`), `{}`, ""},
		{"JSONata replace", jsonata(`$replace($states.input.s, 'x', $states.input.s)`), s25, ""},
		{"JSONata range", jsonata(`$count([1..100000000])`), `{}`, ""},
		{"JSONata map of input", jsonata(`$join([1..1000].($string($states.input)))`), `{"s":"` + s200 + `"}`, ""},
		{"JSONata recursion", jsonata(`($f := function($n){$f($n+1)}; $f(0))`), `{}`, ""},
		{"JSONata sort", jsonata(`$sort([1..1000])`), `{}`, ""},
		{"JSONata string of deep input", jsonata(`$string($states.input)`), strings.Repeat(`[`, 5000) + strings.Repeat("]", 5000), ""},
		{"Map of 6000 copying 200 KB", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","ItemSelector":{"copy.$":"$.big"},` +
			`"ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`,
			items(6000, `,"big":"`+s200+`"`), limit},
		{"Map of 6000 entering with 200 KB", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","ItemSelector":{"copy.$":"$.big"},` +
			`"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","Result":1,"End":true}}},"End":true}}}`,
			items(6000, `,"big":"`+s200+`"`), "States.Runtime"},
		{"Map of 2000 building 100 KB", `{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":2000,"ItemsPath":"$.items","ItemSelector":{"s.$":"$.s"},` +
			`"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"r.$":"States.Format('{}{}', $.s, $.s)"},"End":true}}},"End":true}}}`,
			items(2000, `,"s":"`+strings.Repeat("y", 50_000)+`"`), limit},
		{"Map of Maps", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","ItemSelector":{"items.$":"$.items"},` +
			`"ItemProcessor":{"StartAt":"N","States":{"N":{"Type":"Map","ItemsPath":"$.items","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","Result":1,"End":true}}},"End":true}}},"End":true}}}`,
			items(200, ""), "States.Runtime"},
		{"Parallel of 200 empty branches", parallelDef(200, `{"Type":"Pass","End":true}`), `{}`, "-"},
		{"Parallel of 1000 branches building 100 KB", parallelDef(1000, `{"Type":"Pass","Parameters":{"r.$":"States.Format('{}{}', $.s, $.s)"},"End":true}`),
			`{"s":"` + strings.Repeat("z", 50_000) + `"}`, ""},
		{"Parallel nested 60 deep", nestedParallel(60), `{}`, "-"},
		{"Parallel of Maps", parallelDef(50, `{"Type":"Map","ItemsPath":"$.items","ItemSelector":{"s.$":"$.s"},"ItemProcessor":{"StartAt":"Q%d","States":{"Q%d":{"Type":"Pass","End":true}}},"End":true}`),
			items(500, `,"s":"`+strings.Repeat("w", 100_000)+`"`), ""}, // its results' or its history's limit, whichever comes first
		{"10000 Pass states", passChain(10_000), `{}`, "-"},
		{"13000 Pass states", passChain(13_000), `{}`, "States.Runtime"},
		{"variables amplification", `{"StartAt":"P","States":{"P":{"Type":"Pass","Assign":{"a.$":"$.s","b.$":"$.s","c.$":"$.s","d.$":"$.s","e.$":"$.s","f.$":"$.s"},"End":true}}}`,
			`{"s":"` + s200 + `"}`, limit},
		{"Distributed Map of 2000 copying 100 KB", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","ItemSelector":{"copy.$":"$.big"},"MaxConcurrency":1000,` +
			`"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`,
			items(2000, `,"big":"`+strings.Repeat("v", 100_000)+`"`), limit},
	}
	return rs
}

func wideTemplate(n int) string {
	fields := make([]string, n)
	for i := range fields {
		fields[i] = fmt.Sprintf(`"f%d.$":"$.s"`, i)
	}
	return "{" + strings.Join(fields, ",") + "}"
}

func manyFormats(n int) string {
	fields := make([]string, n)
	for i := range fields {
		fields[i] = fmt.Sprintf(`"f%d.$":"States.Format('{}', $.s)"`, i)
	}
	return "{" + strings.Join(fields, ",") + "}"
}

func parallelDef(n int, state string) string {
	brs := make([]string, n)
	for i := range brs {
		st := state
		if strings.Contains(st, "%d") {
			st = strings.ReplaceAll(st, "%d", fmt.Sprint(i))
		}
		brs[i] = fmt.Sprintf(`{"StartAt":"S%d","States":{"S%d":%s}}`, i, i, st)
	}
	return `{"StartAt":"X","States":{"X":{"Type":"Parallel","Branches":[` + strings.Join(brs, ",") + `],"End":true}}}`
}

func passChain(n int) string {
	var b strings.Builder
	b.WriteString(`{"StartAt":"S0","States":{`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		if i == n-1 {
			fmt.Fprintf(&b, `"S%d":{"Type":"Pass","End":true}`, i)
		} else {
			fmt.Fprintf(&b, `"S%d":{"Type":"Pass","Next":"S%d"}`, i, i+1)
		}
	}
	b.WriteString(`}}`)
	return b.String()
}

// tally counts the requests sent and collects the problems found.
type tally struct {
	mu       sync.Mutex
	requests int
	byStatus map[int]int
	problems []string
}

func (t *tally) note(name string, r response, err error, wantType string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.requests++
	switch {
	case err != nil:
		t.problems = append(t.problems, fmt.Sprintf("%s: %v", name, err))
	case r.status >= 500:
		t.problems = append(t.problems, fmt.Sprintf("%s: %d %.300s", name, r.status, r.body))
	case wantType != "" && r.errType() != wantType:
		t.problems = append(t.problems, fmt.Sprintf("%s: %d %s, want %s (%.300s)", name, r.status, r.errType(), wantType, r.body))
	}
	if t.byStatus == nil {
		t.byStatus = map[int]int{}
	}
	t.byStatus[r.status]++
}

func TestHostile(t *testing.T) {
	skipUnlessEnabled(t)
	began := time.Now()
	s := startServer(t, "--data-dir", t.TempDir(), "--memory-budget", "512MiB", "--console=false")
	var tl tally

	// The executions first: they run while the requests are sent.
	type started struct {
		run
		arn string
	}
	var execs []started
	for i, r := range runs() {
		var sm struct{ StateMachineArn string }
		name := fmt.Sprintf("hostile-%d", i)
		resp, err := s.call("CreateStateMachine", map[string]any{"name": name, "definition": r.def, "roleArn": role}, &sm)
		tl.note("create "+r.name, resp, err, "")
		if resp.status != 200 {
			t.Errorf("create %s: %d %.500s", r.name, resp.status, resp.body)
			continue
		}
		var x struct{ ExecutionArn string }
		resp, err = s.call("StartExecution", map[string]any{"stateMachineArn": sm.StateMachineArn, "input": r.input}, &x)
		tl.note("start "+r.name, resp, err, "")
		if resp.status != 200 {
			t.Errorf("start %s: %d %.500s", r.name, resp.status, resp.body)
			continue
		}
		execs = append(execs, started{r, x.ExecutionArn})
	}

	// The requests, eight at a time, in a shuffled order.
	reqs := requests()
	reqs = append(reqs, tokenRequests(t, s, &tl)...)
	reqs = append(reqs, expressRequests(t, s)...)
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(reqs), func(i, j int) { reqs[i], reqs[j] = reqs[j], reqs[i] })
	work := make(chan request)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range work {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				resp, err := s.raw(ctx, r.op, r.body, r.hdr)
				cancel()
				tl.note(r.name, resp, err, r.wantType)
			}
		}()
	}
	for _, r := range reqs {
		work <- r
	}
	close(work)
	wg.Wait()
	s.alive()

	// Every execution ends, its terminal event last.
	deadline := time.Now().Add(90 * time.Second)
	ended := map[string]int{}
	for _, x := range execs {
		var d struct{ Status, Error, Cause string }
		for {
			resp, err := s.call("DescribeExecution", map[string]any{"executionArn": x.arn}, &d)
			tl.note("describe "+x.name, resp, err, "")
			if err != nil || resp.status != 200 || d.Status != "RUNNING" {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s: still RUNNING after %v (a hang)", x.name, time.Since(began).Round(time.Second))
				break
			}
			time.Sleep(50 * time.Millisecond) // polling the API, as a client does
		}
		if d.Status == "RUNNING" {
			continue
		}
		ended[d.Status]++
		switch {
		case x.wantError == "-" && d.Status != "SUCCEEDED":
			t.Errorf("%s: %s %s %.300s, want SUCCEEDED", x.name, d.Status, d.Error, d.Cause)
		case x.wantError != "" && x.wantError != "-" && d.Error != x.wantError:
			t.Errorf("%s: %s %s %.300s, want %s", x.name, d.Status, d.Error, d.Cause, x.wantError)
		}
		t.Logf("%-45s %s %s %.120s", x.name, d.Status, d.Error, d.Cause)
		checkTerminal(t, s, &tl, x.name, x.arn, d.Status)
	}
	s.alive()
	hwm, _ := s.status("VmHWM")
	t.Logf("hostile suite: %d requests (by status %v), %d executions (%v) in %v; server VmRSS at most %d MiB (sampled), VmHWM %d MiB, budget %d MiB",
		tl.requests, tl.byStatus, len(execs), ended, time.Since(began).Round(time.Millisecond), s.maxRSS.Load()>>20, hwm>>20, budget>>20)
	for _, p := range tl.problems {
		t.Error(p)
	}
	if tl.requests < 300 {
		t.Errorf("%d requests, want at least 300", tl.requests)
	}
	if m := max(s.maxRSS.Load(), hwm); m > budget {
		t.Errorf("server resident memory reached %d MiB, over the %d MiB budget", m>>20, budget>>20)
	}
}

// checkTerminal checks that an ended execution's history ends with the
// terminal event of its status, and that its event ids run 1..n.
func checkTerminal(t *testing.T, s *server, tl *tally, name, arn, status string) {
	t.Helper()
	want := map[string]string{"SUCCEEDED": "ExecutionSucceeded", "FAILED": "ExecutionFailed", "ABORTED": "ExecutionAborted", "TIMED_OUT": "ExecutionTimedOut"}[status]
	var h struct {
		Events []struct {
			ID   int64
			Type string
		}
	}
	resp, err := s.call("GetExecutionHistory", map[string]any{"executionArn": arn, "reverseOrder": true, "maxResults": 1}, &h)
	tl.note("history "+name, resp, err, "")
	if resp.status != 200 || len(h.Events) != 1 {
		t.Errorf("%s: last event: %d %.300s", name, resp.status, resp.body)
		return
	}
	last := h.Events[0]
	if last.Type != want {
		t.Errorf("%s: %s execution's history ends with event %d %s, want %s", name, status, last.ID, last.Type, want)
	}
	// The ids run 1..n: the history has as many events as the last id.
	var n int64
	tok := ""
	for {
		var page struct {
			Events []struct {
				ID int64
			}
			NextToken string
		}
		in := map[string]any{"executionArn": arn, "maxResults": 1000, "includeExecutionData": false}
		if tok != "" {
			in["nextToken"] = tok
		}
		resp, err := s.call("GetExecutionHistory", in, &page)
		tl.note("history page "+name, resp, err, "")
		if resp.status != 200 {
			return
		}
		for _, e := range page.Events {
			n++
			if e.ID != n {
				t.Errorf("%s: event %d has id %d", name, n, e.ID)
				return
			}
		}
		if tok = page.NextToken; tok == "" {
			break
		}
	}
	if n != last.ID {
		t.Errorf("%s: %d events, the last with id %d", name, n, last.ID)
	}
}

// tokenRequests sets up an activity execution and listings, and returns
// the requests that forge or replay their task and page tokens.
func tokenRequests(t *testing.T, s *server, tl *tally) []request {
	var act struct{ ActivityArn string }
	s.must("CreateActivity", map[string]any{"name": "hostile-activity"}, &act)
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + act.ActivityArn + `","TimeoutSeconds":300,"End":true}}}`
	var sm struct{ StateMachineArn string }
	s.must("CreateStateMachine", map[string]any{"name": "hostile-tokens", "definition": def, "roleArn": role}, &sm)
	var x struct{ ExecutionArn string }
	for i := range 3 {
		s.must("StartExecution", map[string]any{"stateMachineArn": sm.StateMachineArn, "name": fmt.Sprint("tok-", i), "input": `{"i":1}`}, &x)
	}
	var task struct{ TaskToken string }
	s.must("GetActivityTask", map[string]any{"activityArn": act.ActivityArn}, &task)
	tok := task.TaskToken
	if tok == "" {
		t.Fatal("GetActivityTask returned no token")
	}
	// The genuine token is used once: every later use is a replay.
	resp, err := s.call("SendTaskSuccess", map[string]any{"taskToken": tok, "output": `{"ok":true}`}, nil)
	tl.note("SendTaskSuccess", resp, err, "")
	if resp.status != 200 {
		t.Fatalf("SendTaskSuccess: %d %s", resp.status, resp.body)
	}
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(strings.TrimRight(tok, "="))
	forged := []struct{ name, token string }{
		{"replayed", tok},
		{"one character changed", flip(tok, len(tok)/2)},
		{"first character changed", flip(tok, 0)},
		{"last character changed", flip(tok, len(tok)-1)},
		{"truncated", tok[:len(tok)/2]},
		{"extended", tok + "AAAA"},
		{"doubled", tok + tok},
		{"empty", ""},
		{"one character", "x"},
		{"2048 characters", strings.Repeat("A", 2048)},
		{"1024 characters", strings.Repeat("A", 1024)},
		{"base64 of garbage", base64.StdEncoding.EncodeToString([]byte(strings.Repeat("\x00\xff", 100)))},
		{"re-encoded standard base64", base64.StdEncoding.EncodeToString(raw)},
		{"JSON", `{"executionArn":"` + x.ExecutionArn + `","state":"T"}`},
		{"unicode", "ŧøķéñ💥"},
		{"execution ARN", x.ExecutionArn},
	}
	var rs []request
	for _, f := range forged {
		rs = append(rs,
			request{name: "SendTaskSuccess " + f.name, op: "SendTaskSuccess", body: mustJSON(map[string]any{"taskToken": f.token, "output": `{}`})},
			request{name: "SendTaskFailure " + f.name, op: "SendTaskFailure", body: mustJSON(map[string]any{"taskToken": f.token, "error": "E"})},
			request{name: "SendTaskHeartbeat " + f.name, op: "SendTaskHeartbeat", body: mustJSON(map[string]any{"taskToken": f.token})},
		)
	}
	// Page tokens: a genuine one, used on other listings, altered, replayed.
	var list struct{ NextToken string }
	s.must("ListExecutions", map[string]any{"stateMachineArn": sm.StateMachineArn, "maxResults": 1}, &list)
	var other struct{ StateMachineArn string }
	s.must("CreateStateMachine", map[string]any{"name": "hostile-other", "definition": `{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}`, "roleArn": role}, &other)
	pt := list.NextToken
	if pt == "" {
		t.Fatal("ListExecutions returned no nextToken")
	}
	var hist struct{ NextToken string }
	s.must("GetExecutionHistory", map[string]any{"executionArn": x.ExecutionArn, "maxResults": 1}, &hist)
	pageUses := []struct{ name, op, body string }{
		{"replayed", "ListExecutions", `{"stateMachineArn":"` + sm.StateMachineArn + `","maxResults":1,"nextToken":"` + pt + `"}`},
		{"on another machine", "ListExecutions", `{"stateMachineArn":"` + other.StateMachineArn + `","maxResults":1,"nextToken":"` + pt + `"}`},
		{"with another filter", "ListExecutions", `{"stateMachineArn":"` + sm.StateMachineArn + `","statusFilter":"FAILED","maxResults":1,"nextToken":"` + pt + `"}`},
		{"on ListStateMachines", "ListStateMachines", `{"nextToken":"` + pt + `"}`},
		{"on ListActivities", "ListActivities", `{"nextToken":"` + pt + `"}`},
		{"on GetExecutionHistory", "GetExecutionHistory", `{"executionArn":"` + x.ExecutionArn + `","nextToken":"` + pt + `"}`},
		{"history token on another execution", "GetExecutionHistory", `{"executionArn":"` + sm.StateMachineArn + `","nextToken":"` + hist.NextToken + `"}`},
		{"history token reversed", "GetExecutionHistory", `{"executionArn":"` + x.ExecutionArn + `","reverseOrder":true,"nextToken":"` + hist.NextToken + `"}`},
		{"altered", "ListExecutions", `{"stateMachineArn":"` + sm.StateMachineArn + `","nextToken":"` + flip(pt, len(pt)/2) + `"}`},
		{"truncated", "ListExecutions", `{"stateMachineArn":"` + sm.StateMachineArn + `","nextToken":"` + pt[:len(pt)/2] + `"}`},
		{"over 1024 characters", "ListExecutions", `{"stateMachineArn":"` + sm.StateMachineArn + `","nextToken":"` + strings.Repeat("A", 1025) + `"}`},
		{"a bare offset", "ListExecutions", `{"stateMachineArn":"` + sm.StateMachineArn + `","nextToken":"1"}`},
		{"on ListMapRuns", "ListMapRuns", `{"executionArn":"` + x.ExecutionArn + `","nextToken":"` + pt + `"}`},
		{"on ListStateMachineVersions", "ListStateMachineVersions", `{"stateMachineArn":"` + sm.StateMachineArn + `","nextToken":"` + pt + `"}`},
	}
	for _, u := range pageUses {
		rs = append(rs, request{name: "page token " + u.name, op: u.op, body: []byte(u.body)})
	}
	// The other two activity executions end: one failed by its worker, one
	// stopped.
	s.must("GetActivityTask", map[string]any{"activityArn": act.ActivityArn}, &task)
	s.must("SendTaskFailure", map[string]any{"taskToken": task.TaskToken, "error": "Worker.Failed", "cause": strings.Repeat("c", 32768)}, nil)
	s.must("StopExecution", map[string]any{"executionArn": x.ExecutionArn, "error": "E", "cause": strings.Repeat("s", 32768)}, nil)
	return rs
}

// expressRequests start 600 Express executions of 200 KB inputs: the
// server keeps the closed ones in memory for DescribeExecution, within a
// share of its budget (600 would hold 360 MB).
func expressRequests(t *testing.T, s *server) []request {
	var sm struct{ StateMachineArn string }
	s.must("CreateStateMachine", map[string]any{"name": "hostile-express", "type": "EXPRESS", "roleArn": role,
		"definition": `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`}, &sm)
	body := mustJSON(map[string]any{"stateMachineArn": sm.StateMachineArn, "input": `{"s":"` + strings.Repeat("e", 200_000) + `"}`})
	rs := make([]request, 600)
	for i := range rs {
		rs[i] = request{name: fmt.Sprint("Express execution ", i), op: "StartExecution", body: body}
	}
	return rs
}
