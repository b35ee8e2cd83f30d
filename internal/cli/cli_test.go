package cli_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/internal/app"
	"github.com/stepwell/stepwell/internal/cli"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	m := &cli.Main{
		Stdin:  strings.NewReader(stdin),
		Stdout: &out,
		Stderr: &errb,
		Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := m.Run(ctx, args)
	return result{code, out.String(), errb.String()}
}

// checkGolden compares got with testdata/golden/NAME, rewriting it with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from golden file:\n--- got ---\n%s--- want ---\n%s", name, got, want)
	}
}

func TestCLI(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		stdin      string
		wantCode   int
		golden     bool   // compare stdout with testdata/golden/<name>.stdout
		wantStdout string // exact stdout, when not golden and not empty
		wantStderr string // a substring of stderr ("" means stderr must be empty)
	}{
		{name: "no args", wantCode: 2, wantStderr: "no command given"},
		{name: "unknown command", args: []string{"frobnicate"}, wantCode: 2, wantStderr: `unknown command "frobnicate"`},
		{name: "help", args: []string{"help"}, golden: true},
		{name: "help flag", args: []string{"--help"}, golden: true},
		{name: "help run", args: []string{"help", "run"}, golden: true},
		{name: "help serve", args: []string{"help", "serve"}, golden: true},
		{name: "help validate", args: []string{"help", "validate"}, golden: true},
		{name: "help unknown", args: []string{"help", "nope"}, wantCode: 2, wantStderr: `help: unknown command "nope"`},
		{name: "run -h", args: []string{"run", "-h"}, golden: true},

		{name: "validate ok", args: []string{"validate", "testdata/hello.asl.json"}, wantStdout: ""},
		{name: "validate syntax", args: []string{"validate", "testdata/syntax.asl.json"}, wantCode: 1, golden: true},
		{name: "validate json ok", args: []string{"validate", "testdata/hello.asl.json", "--json"}, golden: true},
		{name: "validate stdin", args: []string{"validate", "-"}, stdin: `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`},
		{name: "validate missing file", args: []string{"validate", "testdata/nope.json"}, wantCode: 1,
			wantStderr: "stepwell: read testdata/nope.json: no such file or directory"},
		{name: "validate no file", args: []string{"validate"}, wantCode: 2, wantStderr: "validate: missing FILE"},
		{name: "validate two files", args: []string{"validate", "a", "b"}, wantCode: 2, wantStderr: `validate: unexpected argument "b"`},
		{name: "validate bad flag", args: []string{"validate", "--jsn", "x"}, wantCode: 2, wantStderr: "flag provided but not defined: -jsn"},

		{name: "run hello", args: []string{"run", "testdata/hello.asl.json", "--input", `{"name":"World"}`},
			wantStdout: `{"greeting":"Hello, World!","n":1.0}` + "\n"},
		{name: "run flags first", args: []string{"run", "--input", `{"name":"x"}`, "testdata/hello.asl.json"},
			wantStdout: `{"greeting":"Hello, x!","n":1.0}` + "\n"},
		{name: "run input file", args: []string{"run", "testdata/hello.asl.json", "--input", "@testdata/input.json"},
			wantStdout: `{"greeting":"Hello, from a file!","n":1.0}` + "\n"},
		{name: "run input stdin", args: []string{"run", "testdata/hello.asl.json", "--input", "@-"}, stdin: `{"name": 12345678901234567890}`,
			wantStdout: `{"greeting":"Hello, 12345678901234567890!","n":1.0}` + "\n"},
		{name: "run fail", args: []string{"run", "testdata/fail.asl.json", "--input", `{"ok":false}`}, wantCode: 1,
			wantStdout: `{"error":"Custom.Boom","cause":"ok was not true"}` + "\n"},
		{name: "run succeed", args: []string{"run", "testdata/fail.asl.json", "--input", `{"ok":true}`},
			wantStdout: `{"ok":true}` + "\n"},
		{name: "run scaled wait", args: []string{"run", "testdata/wait.asl.json", "--time-scale", "0.00001"},
			wantStdout: `{"slept":true}` + "\n"},
		{name: "run invalid input", args: []string{"run", "testdata/hello.asl.json", "--input", "{\n  \"name\": }"}, wantCode: 2,
			wantStderr: "stepwell: --input: invalid JSON at line 2, column 11: "},
		{name: "run invalid input file", args: []string{"run", "testdata/hello.asl.json", "--input", "@testdata/syntax.asl.json"}, wantCode: 2,
			wantStderr: "stepwell: testdata/syntax.asl.json: invalid JSON at line 4, column 26: "},
		{name: "run missing input file", args: []string{"run", "testdata/hello.asl.json", "--input", "@nope.json"}, wantCode: 1,
			wantStderr: "stepwell: --input: read nope.json: no such file or directory"},
		{name: "run invalid definition", args: []string{"run", "testdata/bad.asl.json"}, wantCode: 1,
			wantStderr: "testdata/bad.asl.json: /States/A/Next: ERROR MISSING_TRANSITION_TARGET: "},
		{name: "run syntax error", args: []string{"run", "testdata/syntax.asl.json"}, wantCode: 1,
			wantStderr: "testdata/syntax.asl.json: line 4, column 26: ERROR INVALID_JSON_DESCRIPTION: "},
		{name: "run no lambda endpoint", args: []string{"run", "testdata/lambda.asl.json"}, wantCode: 1,
			wantStdout: `{"error":"States.Runtime","cause":"The resource 'arn:aws:lambda:us-east-1:123456789012:function:echo' is a Lambda function and no Lambda endpoint is configured (use --lambda-endpoint URL)."}` + "\n"},
		{name: "run negative scale", args: []string{"run", "testdata/hello.asl.json", "--time-scale", "-1"}, wantCode: 2,
			wantStderr: "--time-scale must be a positive number, got -1"},
		{name: "run zero scale", args: []string{"run", "testdata/hello.asl.json", "--time-scale", "0"}, wantCode: 2,
			wantStderr: "--time-scale must be a positive number, got 0"},
		{name: "run bad scale", args: []string{"run", "testdata/hello.asl.json", "--time-scale", "fast"}, wantCode: 2,
			wantStderr: `invalid value "fast" for flag -time-scale`},
		{name: "run no file", args: []string{"run"}, wantCode: 2, wantStderr: "run: missing FILE"},

		{name: "serve env", args: []string{"serve", "--check-config"}, golden: true, env: map[string]string{
			"STEPWELL_ADDR": "0.0.0.0:9000", "STEPWELL_TIME_SCALE": "0.5", "STEPWELL_LAMBDA_ENDPOINT": "http://127.0.0.1:3001",
			"STEPWELL_ACCOUNT_ID": "111111111111", "STEPWELL_REGION": "eu-west-1", "STEPWELL_STORE": "memory",
			"STEPWELL_EXPRESS_RETENTION": "5", "STEPWELL_EXPRESS_HISTORY": "true", "STEPWELL_AUTH": "none"}},
		{name: "serve flags beat env", args: []string{"serve", "--check-config", "--time-scale", "0.1", "--region", "us-west-2",
			"--express-retention", "0", "--express-history=false"},
			golden: true, env: map[string]string{
				"STEPWELL_ADDR": "0.0.0.0:9000", "STEPWELL_TIME_SCALE": "0.5", "STEPWELL_LAMBDA_ENDPOINT": "http://127.0.0.1:3001",
				"STEPWELL_ACCOUNT_ID": "111111111111", "STEPWELL_REGION": "eu-west-1", "STEPWELL_STORE": "memory",
				"STEPWELL_EXPRESS_RETENTION": "5", "STEPWELL_EXPRESS_HISTORY": "1", "STEPWELL_AUTH": "none",
				"HOME": "/home/u"}}, // data-dir: empty, the store is not the default embedded one
		{name: "serve every interface without credentials", args: []string{"serve", "--check-config", "--addr", "0.0.0.0:9000"},
			wantCode: 2, wantStderr: `addr "0.0.0.0:9000": is not a loopback address, and the server has no credentials to verify requests with`},
		{name: "serve check-config with credentials", args: []string{"serve", "--check-config", "--addr", "0.0.0.0:9000", "--credentials", "testdata/credentials.json"},
			env: map[string]string{"AWS_CA_BUNDLE": ""}, golden: true},
		{name: "serve check-config masks secrets", args: []string{"serve", "--check-config", "--auth", "none"},
			env: map[string]string{"STEPWELL_STORE": "postgres://u:pw1@db/x?sslpassword=pw2&sslmode=require", "STEPWELL_LAMBDA_ENDPOINT": "http://k:pw3@127.0.0.1:3001",
				"STEPWELL_STATUS_EVENTS": "https://hook:pw4@events.example.com/in?token=pw5,http://127.0.0.1:9000/events"}, golden: true},
		{name: "serve express flags", args: []string{"serve", "--check-config", "--express-history", "--express-retention", "7"}, golden: true,
			env: map[string]string{"AWS_CA_BUNDLE": "", "HOME": "/home/u"}}, // data-dir: the effective default, in $HOME
		{name: "serve bad env", args: []string{"serve", "--check-config"}, env: map[string]string{"STEPWELL_TIME_SCALE": "fast"},
			wantCode: 2, wantStderr: `environment variable STEPWELL_TIME_SCALE="fast": not a number`},
		{name: "serve bad bool env", args: []string{"serve", "--check-config"}, env: map[string]string{"STEPWELL_EXPRESS_HISTORY": "yes"},
			wantCode: 2, wantStderr: `environment variable STEPWELL_EXPRESS_HISTORY="yes": not a boolean (true or false)`},
		{name: "serve bad int env", args: []string{"serve", "--check-config"}, env: map[string]string{"STEPWELL_EXPRESS_RETENTION": "many"},
			wantCode: 2, wantStderr: `environment variable STEPWELL_EXPRESS_RETENTION="many": not an integer`},
		{name: "serve negative express retention", args: []string{"serve", "--check-config", "--express-retention", "-1"}, wantCode: 2,
			wantStderr: `express-retention "-1": must not be negative`},
		{name: "serve aws endpoints", args: []string{"serve", "--check-config", "--aws-endpoint", "sqs=http://flag:3",
			"--aws-endpoint", "dynamodb=http://ddb:4"}, golden: true, env: map[string]string{
			"AWS_ENDPOINT_URL": "http://emulator:4566", "AWS_ENDPOINT_URL_SQS": "http://sqs:1", "SNS_ENDPOINT": "http://sns:2",
			"AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://secrets:5", "AWS_REGION": "eu-west-1"}},
		{name: "serve aws endpoint for every service", args: []string{"serve", "--check-config", "--aws-endpoint", "http://moto:5000"}, golden: true,
			env: map[string]string{"AWS_CA_BUNDLE": ""}},
		{name: "serve unknown aws service", args: []string{"serve", "--check-config", "--aws-endpoint", "nosuch=http://x:1"}, wantCode: 2,
			wantStderr: `unknown service "nosuch"`},
		{name: "serve bad aws endpoint", args: []string{"serve", "--check-config", "--aws-endpoint", "sqs=ftp://x"}, wantCode: 2,
			wantStderr: `"ftp://x" is not an http(s) URL`},
		{name: "serve bad aws endpoint env", args: []string{"serve", "--check-config"}, env: map[string]string{"AWS_ENDPOINT_URL_SQS": "queue-host:9324"},
			wantCode: 2, wantStderr: `serve: invalid configuration: aws-endpoint "sqs=queue-host:9324"`},
		{name: "serve bad flag", args: []string{"serve", "--port", "1"}, wantCode: 2, wantStderr: "flag provided but not defined: -port"},
		{name: "serve invalid config", args: []string{"serve", "--check-config", "--time-scale", "-1"}, wantCode: 2,
			wantStderr: "serve: invalid configuration: "},
		{name: "serve extra arg", args: []string{"serve", "now"}, wantCode: 2, wantStderr: `serve: unexpected argument "now"`},

		{name: "version extra arg", args: []string{"version", "x"}, wantCode: 2, wantStderr: `version: unexpected argument "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.env, tt.stdin, tt.args...)
			if r.code != tt.wantCode {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.wantCode, r.stdout, r.stderr)
			}
			switch {
			case tt.golden:
				checkGolden(t, strings.ReplaceAll(tt.name, " ", "_")+".stdout", r.stdout)
			case tt.wantStdout != "" || tt.wantCode == 0:
				if r.stdout != tt.wantStdout {
					t.Errorf("stdout\n got: %q\nwant: %q", r.stdout, tt.wantStdout)
				}
			}
			if tt.wantStderr == "" && tt.wantCode != 2 && r.stderr != "" {
				t.Errorf("unexpected stderr: %s", r.stderr)
			}
			if !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("stderr %q does not contain %q", r.stderr, tt.wantStderr)
			}
		})
	}
}

// TestValidate_Diagnostics checks how validate prints what asl.Validate
// reports (the texts themselves are asl's and tested there).
func TestValidate_Diagnostics(t *testing.T) {
	for _, file := range []string{"testdata/bad.asl.json", "testdata/unreachable.asl.json", "testdata/hello.asl.json"} {
		def, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		diags := asl.Validate(def, asl.Options{})
		var want strings.Builder
		wantCode := 0
		for _, d := range diags {
			loc := d.Location
			if loc == "" {
				loc = "/" // the root
			}
			fmt.Fprintf(&want, "%s: %s %s: %s\n", loc, d.Severity, d.Code, d.Message)
			if d.Severity == asl.SeverityError {
				wantCode = 1
			}
		}
		r := run(t, nil, "", "validate", file)
		if r.code != wantCode || r.stdout != want.String() {
			t.Errorf("validate %s: code %d, stdout\n%s\nwant code %d, stdout\n%s", file, r.code, r.stdout, wantCode, want.String())
		}

		r = run(t, nil, "", "validate", "--json", file)
		var doc struct {
			Result      string `json:"result"`
			Diagnostics []struct {
				Severity, Code, Message, Location string
			} `json:"diagnostics"`
			Truncated *bool `json:"truncated"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
			t.Fatalf("validate --json %s: %v\n%s", file, err, r.stdout)
		}
		wantResult := map[int]string{0: "OK", 1: "FAIL"}[wantCode]
		if r.code != wantCode || doc.Result != wantResult || doc.Truncated == nil || len(doc.Diagnostics) != len(diags) {
			t.Fatalf("validate --json %s: code %d, %+v", file, r.code, doc)
		}
		for i, d := range diags {
			g := doc.Diagnostics[i]
			if g.Severity != string(d.Severity) || g.Code != d.Code || g.Message != d.Message || g.Location != d.Location {
				t.Errorf("diagnostic %d: %+v, want %+v", i, g, d)
			}
		}
	}
}

// TestServe_Defaults checks that serve starts from app.DefaultConfig.
func TestServe_Defaults(t *testing.T) {
	d := app.DefaultConfig()
	r := run(t, nil, "", "serve", "--check-config")
	for _, want := range []string{"addr=" + d.Addr, "time-scale=" + strconv.FormatFloat(d.TimeScale, 'g', -1, 64),
		"account-id=" + d.AccountID, "region=" + d.Region, fmt.Sprintf("express-retention=%d", d.ExpressRetention),
		fmt.Sprintf("express-history=%t", d.ExpressHistory), fmt.Sprintf("console=%t", d.Console),
		"retention=90d", "store=embedded", "auth=none (loopback only)", "aws-endpoints=none"} {
		if r.code != 0 || !strings.Contains("\n"+r.stdout, "\n"+want+"\n") {
			t.Errorf("code %d, stdout %q, want the line %q (stderr %s)", r.code, r.stdout, want, r.stderr)
		}
	}
}

// TestServe_RunsUntilCancelled starts the real server on a free port and
// stops it the way a signal does.
func TestServe_RunsUntilCancelled(t *testing.T) {
	var out, errb bytes.Buffer
	m := &cli.Main{Stdout: &out, Stderr: &errb, Getenv: func(string) (string, bool) { return "", false }}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if code := m.Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--store", "memory"}); code != 0 {
		t.Errorf("code %d after cancellation, want 0 (stderr %s)", code, errb.String())
	}
}

func TestVersion(t *testing.T) {
	r := run(t, nil, "", "version")
	if r.code != 0 || !regexp.MustCompile(`^stepwell \S+ \(go\S+ \w+/\w+\)\n$`).MatchString(r.stdout) {
		t.Errorf("version: code %d, stdout %q", r.code, r.stdout)
	}
	cli.Version = "v9.9.9"
	defer func() { cli.Version = "" }()
	if r := run(t, nil, "", "--version"); !strings.HasPrefix(r.stdout, "stepwell v9.9.9 (") {
		t.Errorf("--version: %q", r.stdout)
	}
}

// TestRun_History checks --history: the GetExecutionHistory-shaped
// document, then the output.
func TestRun_History(t *testing.T) {
	r := run(t, nil, "", "run", "testdata/hello.asl.json", "--history", "--input", `{"name":"h"}`, "--name", "exec-1")
	if r.code != 0 {
		t.Fatalf("code %d, stderr %s", r.code, r.stderr)
	}
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	var hist struct {
		Events []struct {
			Type string `json:"type"`
			ID   int    `json:"id"`
		} `json:"events"`
	}
	if err := dec.Decode(&hist); err != nil {
		t.Fatalf("history is not JSON: %v\n%s", err, r.stdout)
	}
	var types []string
	for i, e := range hist.Events {
		if e.ID != i+1 {
			t.Errorf("event %d has id %d", i, e.ID)
		}
		types = append(types, e.Type)
	}
	want := "ExecutionStarted PassStateEntered PassStateExited SucceedStateEntered SucceedStateExited ExecutionSucceeded"
	if got := strings.Join(types, " "); got != want {
		t.Errorf("event types\n got: %s\nwant: %s", got, want)
	}
	rest, _ := io.ReadAll(dec.Buffered())
	if got := strings.TrimSpace(string(rest)); got != `{"greeting":"Hello, h!","n":1.0}` {
		t.Errorf("output after history = %q", got)
	}
}

// TestRun_Lambda runs Lambda tasks of both forms against a fake Lambda
// Invoke API.
func TestRun_Lambda(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.EscapedPath())
		mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header()["X-Amz-Executed-Version"] = []string{"$LATEST"}
		w.Write([]byte(`{"echo": ` + string(body) + `}`))
	}))
	defer srv.Close()
	r := run(t, nil, "", "run", "testdata/lambda.asl.json", "--lambda-endpoint", srv.URL, "--input", `{"a":1}`)
	if r.code != 0 {
		t.Fatalf("code %d, stdout %s, stderr %s", r.code, r.stdout, r.stderr)
	}
	if want := `{"echo":{"echo":{"a":1}}}` + "\n"; r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
	want := []string{
		"/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aecho/invocations",
		"/2015-03-31/functions/echo/invocations",
	}
	if strings.Join(paths, " ") != strings.Join(want, " ") {
		t.Errorf("Lambda calls %v, want %v", paths, want)
	}
}

// TestRun_AWSEndpoint: run sends an AWS service task to the endpoint
// --aws-endpoint names, in the service's protocol (the SDK's SQS JSON
// protocol, a body given as JSON sent as its text).
func TestRun_AWSEndpoint(t *testing.T) {
	var mu sync.Mutex
	var calls []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ QueueUrl, MessageBody string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		mu.Lock()
		calls = append(calls, r.Header.Get("X-Amz-Target")+" "+in.QueueUrl+" "+in.MessageBody)
		mu.Unlock()
		sum := md5.Sum([]byte(in.MessageBody))
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		fmt.Fprintf(w, `{"MessageId":"m-1","MD5OfMessageBody":"%s"}`, hex.EncodeToString(sum[:]))
	}))
	defer srv.Close()
	r := run(t, nil, "", "run", "testdata/sqs.asl.json", "--aws-endpoint", "sqs="+srv.URL, "--input", `{"name":"h"}`)
	if r.code != 0 || r.stdout != `{"MessageId":"m-1"}`+"\n" {
		t.Fatalf("code %d, stdout %s, stderr %s; want the endpoint's MessageId", r.code, r.stdout, r.stderr)
	}
	if want := `AmazonSQS.SendMessage http://queue.invalid/123456789012/q {"hello":"h"}`; len(calls) != 1 || calls[0] != want {
		t.Errorf("the endpoint got %q, want one call %q", calls, want)
	}
}

// TestRun_ChecksTasks: run checks a task before scheduling it, as the
// server does: an AWS SDK action that does not exist fails the execution
// with States.Runtime and no TaskScheduled event.
func TestRun_ChecksTasks(t *testing.T) {
	r := run(t, nil, "", "run", "testdata/unknown-action.asl.json", "--history", "--aws-endpoint", "http://127.0.0.1:1")
	if r.code != 1 || strings.Contains(r.stdout, `"TaskScheduled"`) || !strings.Contains(r.stdout, `{"error":"States.Runtime"`) {
		t.Errorf("code %d, stdout %s; want States.Runtime before any TaskScheduled", r.code, r.stdout)
	}
}

// TestRun_Cancelled checks that an interrupted run stops promptly.
func TestRun_Cancelled(t *testing.T) {
	var out, errb bytes.Buffer
	m := &cli.Main{Stdout: &out, Stderr: &errb, Getenv: func(string) (string, bool) { return "", false }}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	code := m.Run(ctx, []string{"run", "testdata/wait.asl.json"})
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("run took %v after cancellation", d)
	}
	if code != 1 {
		t.Errorf("code %d, want 1 (stdout %s, stderr %s)", code, out.String(), errb.String())
	}
}
