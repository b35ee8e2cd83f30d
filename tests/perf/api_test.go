//go:build linux

package perf

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// passChain is a definition of n Pass states in a row.
func passChain(n int) string {
	var b strings.Builder
	b.WriteString(`{"StartAt":"S0","States":{`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
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

// waitOneHour is a definition that waits an hour, then ends.
const waitOneHour = `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}`

// createMachine creates a Standard state machine and returns its ARN.
func createMachine(tb testing.TB, c *http.Client, url, name, def string) string {
	return createTyped(tb, c, url, name, def, "STANDARD")
}

// createTyped creates a state machine of type typ (STANDARD or EXPRESS)
// and returns its ARN.
func createTyped(tb testing.TB, c *http.Client, url, name, def, typ string) string {
	body, err := json.Marshal(map[string]string{
		"name": name, "definition": def, "roleArn": "arn:aws:iam::123456789012:role/perf", "type": typ,
	})
	if err != nil {
		tb.Fatal(err)
	}
	out, err := call(context.Background(), c, url, "CreateStateMachine", body)
	if err != nil {
		tb.Fatal(err)
	}
	var r struct {
		StateMachineArn string `json:"stateMachineArn"`
	}
	if err := json.Unmarshal(out, &r); err != nil || r.StateMachineArn == "" {
		tb.Fatalf("CreateStateMachine answered %s (%v)", out, err)
	}
	return r.StateMachineArn
}

// input is every execution's input.
const input = `{"hello":"world","n":1}`

// startBody is the StartExecution request of execution name of machine
// (no name when name is empty: the server picks one).
func startBody(machine, name string) []byte {
	named := ""
	if name != "" {
		named = `,"name":` + strconv.Quote(name)
	}
	return []byte(`{"stateMachineArn":` + strconv.Quote(machine) + named + `,"input":` + strconv.Quote(input) + `}`)
}

// startedARN is the executionArn of a StartExecution answer.
func startedARN(out []byte) (string, error) {
	var r struct {
		ExecutionArn string `json:"executionArn"`
	}
	if err := json.Unmarshal(out, &r); err != nil || r.ExecutionArn == "" {
		return "", fmt.Errorf("StartExecution answered %s (%v)", out, err)
	}
	return r.ExecutionArn, nil
}

// executionARN returns the ARN of execution name of machine.
func executionARN(machine, name string) string {
	return strings.Replace(machine, ":stateMachine:", ":execution:", 1) + ":" + name
}

// listExecutions returns one page of machine's executions with status
// (all when empty) and the next page's token.
func listExecutions(ctx context.Context, c *http.Client, url, machine, status string, max int, token string) ([]string, string, error) {
	req := map[string]any{"stateMachineArn": machine, "maxResults": max}
	if status != "" {
		req["statusFilter"] = status
	}
	if token != "" {
		req["nextToken"] = token
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, "", err
	}
	out, err := call(ctx, c, url, "ListExecutions", body)
	if err != nil {
		return nil, "", err
	}
	var r struct {
		Executions []struct {
			ExecutionArn string `json:"executionArn"`
		} `json:"executions"`
		NextToken string `json:"nextToken"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, "", fmt.Errorf("ListExecutions: %w", err)
	}
	arns := make([]string, len(r.Executions))
	for i, x := range r.Executions {
		arns[i] = x.ExecutionArn
	}
	return arns, r.NextToken, nil
}

// countExecutions counts machine's executions with status.
func countExecutions(tb testing.TB, c *http.Client, url, machine, status string) int {
	n, tok := 0, ""
	for {
		page, next, err := listExecutions(context.Background(), c, url, machine, status, 1000, tok)
		if err != nil {
			tb.Fatal(err)
		}
		n += len(page)
		if next == "" {
			return n
		}
		tok = next
	}
}

// waitNoneRunning polls (every 10 ms) until machine has no RUNNING
// execution and returns when it saw none, or fails after limit.
func waitNoneRunning(tb testing.TB, c *http.Client, url, machine string, limit time.Duration) time.Time {
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		page, _, err := listExecutions(context.Background(), c, url, machine, "RUNNING", 1, "")
		if err != nil {
			tb.Fatal(err)
		}
		if len(page) == 0 {
			return time.Now()
		}
		if time.Now().After(deadline) {
			tb.Fatalf("executions of %s still running after %v", machine, limit)
		}
		<-tick.C
	}
}

// lastEvent returns the type of an execution's last history event.
func lastEvent(ctx context.Context, c *http.Client, url, execARN string) (string, error) {
	body, err := json.Marshal(map[string]any{"executionArn": execARN, "reverseOrder": true, "maxResults": 1})
	if err != nil {
		return "", err
	}
	out, err := call(ctx, c, url, "GetExecutionHistory", body)
	if err != nil {
		return "", err
	}
	var r struct {
		Events []struct {
			Type string `json:"type"`
		} `json:"events"`
	}
	if err := json.Unmarshal(out, &r); err != nil || len(r.Events) != 1 {
		return "", fmt.Errorf("GetExecutionHistory answered %s (%v)", out, err)
	}
	return r.Events[0].Type, nil
}
