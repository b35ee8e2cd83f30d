package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/internal/app"
	"github.com/stepwell/stepwell/internal/uuid"
	"github.com/stepwell/stepwell/value"
)

// RunCommand runs one execution in-process (stepwell run FILE).
type RunCommand struct {
	m *Main
}

// Defaults for ARNs built by run.
const (
	defaultAccountID = "123456789012"
	defaultRegion    = "us-east-1"
)

// Run loads the definition, runs one execution and prints its output, or
// {"error":…,"cause":…} when it does not succeed (exit code 1).
func (c *RunCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("run", "run FILE [flags]", c.m.Stdout)
	input := fs.String("input", "{}", "execution input: `JSON` text, or @FILE to read it from a file (@- for stdin)")
	showHistory := fs.Bool("history", false, "print the execution history ({\"events\": [...]}) before the result")
	endpoint := fs.String("lambda-endpoint", "", "base `URL` of a Lambda Invoke API for Lambda tasks")
	scale := fs.Float64("time-scale", 1, "multiply every wait, retry interval and timeout by `FACTOR`")
	express := fs.Bool("express", false, "run as an EXPRESS state machine")
	name := fs.String("name", "", "execution `NAME` (default: a random UUID)")
	account := fs.String("account-id", defaultAccountID, "AWS account `ID` used in ARNs")
	region := fs.String("region", defaultRegion, "AWS `REGION` used in ARNs")
	aws := app.AWSFromEnv(c.m.getenv)
	fs.Var(awsEndpoints{&aws.Endpoints}, "aws-endpoint", awsEndpointUsage)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := exactArgs("run", pos, "FILE"); err != nil {
		return err
	}
	if !(*scale > 0) || math.IsInf(*scale, 0) {
		return &usageError{msg: fmt.Sprintf("run: --time-scale must be a positive number, got %g", *scale)}
	}
	file := pos[0]
	def, err := c.m.readFile(file)
	if err != nil {
		return err
	}
	inputText, err := c.m.readInput(*input)
	if err != nil {
		return err
	}

	typ := "STANDARD"
	if *express {
		typ = "EXPRESS"
	}
	sm, err := asl.Load(def, asl.Options{Express: *express})
	if err != nil {
		var de *asl.DefinitionError
		if errors.As(err, &de) {
			writeDiagnostics(c.m.Stderr, file, readable(def, de.Diagnostics))
			return errReported
		}
		return fmt.Errorf("load %s: %w", file, err)
	}

	smName := machineName(file)
	execName := *name
	if execName == "" {
		execName = uuid.New()
	}
	smARN := "arn:aws:states:" + *region + ":" + *account + ":stateMachine:" + smName
	execARN := "arn:aws:states:" + *region + ":" + *account + ":" + executionKind(typ) + ":" + smName + ":" + execName

	ac := app.Config{LambdaEndpoint: *endpoint, Region: *region, AccountID: *account, AWS: aws}
	invoker, err := app.Invoker(ac)
	if err != nil {
		return err
	}
	items, err := app.MapItems(ac)
	if err != nil {
		return err
	}
	eng := engine.New(engine.Config{
		TimeScale: *scale,
		Invoker:   invoker,
		Checker:   invoker,
		Region:    *region,
		AccountID: *account,
		Items:     items,
		Results:   items,
	})
	var rec *memRecorder
	var recorder engine.Recorder
	if *showHistory {
		rec = &memRecorder{}
		recorder = rec
	}
	res := eng.Execute(ctx, &engine.Execution{
		ARN:              execARN,
		Name:             execName,
		StateMachineARN:  smARN,
		StateMachineName: smName,
		RoleARN:          "arn:aws:iam::" + *account + ":role/stepwell",
		Type:             typ,
		Input:            inputText,
		StartTime:        time.Now(),
		Machine:          sm,
	}, recorder)

	if rec != nil {
		b, err := json.MarshalIndent(struct {
			Events []history.Event `json:"events"`
		}{rec.events}, "", "  ")
		if err != nil {
			return fmt.Errorf("encode history: %w", err)
		}
		fmt.Fprintf(c.m.Stdout, "%s\n", b)
	}
	if res.Status == engine.StatusSucceeded && res.Output != nil {
		fmt.Fprintln(c.m.Stdout, *res.Output)
		return nil
	}
	out := value.NewObject(2)
	out.Set("error", optString(res.Error))
	out.Set("cause", optString(res.Cause))
	fmt.Fprintln(c.m.Stdout, value.String(out))
	if res.Status != engine.StatusFailed {
		fmt.Fprintf(c.m.Stderr, "stepwell: execution %s\n", res.Status)
	}
	return errReported
}

func optString(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

func executionKind(typ string) string {
	if typ == "EXPRESS" {
		return "express"
	}
	return "execution"
}

// memRecorder keeps the history in memory.
type memRecorder struct {
	events []history.Event
}

// Record implements engine.Recorder.
func (r *memRecorder) Record(events []history.Event) error {
	r.events = append(r.events, events...)
	return nil
}

// readFile reads a file, or standard input for "-".
func (m *Main) readFile(name string) ([]byte, error) {
	var b []byte
	var err error
	if name == "-" {
		if m.Stdin == nil {
			return nil, errors.New("read -: no standard input")
		}
		b, err = io.ReadAll(m.Stdin)
	} else {
		b, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, unwrapPathError(err))
	}
	return b, nil
}

// unwrapPathError drops the path that *os.PathError repeats.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// readInput returns the execution input text from --input (JSON or @file),
// checked to be valid JSON.
func (m *Main) readInput(arg string) (string, error) {
	text, source := arg, "--input"
	if rest, ok := strings.CutPrefix(arg, "@"); ok {
		b, err := m.readFile(rest)
		if err != nil {
			return "", fmt.Errorf("--input: %w", err)
		}
		text, source = string(b), rest
	}
	if _, err := value.ParseString(text); err != nil {
		var se *value.SyntaxError
		if errors.As(err, &se) {
			return "", &usageError{msg: fmt.Sprintf("%s: invalid JSON at line %d, column %d: %s", source, se.Line, se.Column, se.Msg)}
		}
		return "", &usageError{msg: fmt.Sprintf("%s: %v", source, err)}
	}
	return text, nil
}

// machineName derives a state machine name from a file name:
// "flows/order.asl.json" → "order". Characters AWS does not allow in names
// become '-'.
func machineName(file string) string {
	base := filepath.Base(file)
	if i := strings.IndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	if file == "-" || base == "" {
		base = "stdin"
	}
	b := []byte(base)
	for i, ch := range b {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
			b[i] = '-'
		}
	}
	if len(b) > 80 {
		b = b[:80]
	}
	return string(b)
}
