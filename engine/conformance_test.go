package engine_test

import (
	"context"
	"encoding/json"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/integrations/lambda"
)

// confJob is one conformance case prepared by engine/testdata/conformance.py.
type confJob struct {
	ID         string `json:"id"`
	SMName     string `json:"sm_name"`
	ExecName   string `json:"exec_name"`
	RoleARN    string `json:"role_arn"`
	Type       string `json:"type"`
	Definition string `json:"definition"`
	Input      string `json:"input"`
}

type confObs struct {
	ID       string            `json:"id"`
	Status   string            `json:"status"`
	Describe map[string]any    `json:"describe"`
	History  []json.RawMessage `json:"history"`
	LoadErr  string            `json:"load_error,omitempty"`
}

type keepAll struct {
	mu     sync.Mutex
	events []history.Event
}

func (k *keepAll) Record(evs []history.Event) error {
	k.mu.Lock()
	k.events = append(k.events, evs...)
	k.mu.Unlock()
	return nil
}

// TestConformanceJobs runs conformance cases in-process for the driver
// script (engine/testdata/conformance.py); it is skipped unless
// STEPWELL_CONF_JOBS names a job file.
func TestConformanceJobs(t *testing.T) {
	jobsPath := os.Getenv("STEPWELL_CONF_JOBS")
	if jobsPath == "" {
		t.Skip("STEPWELL_CONF_JOBS not set")
	}
	data, err := os.ReadFile(jobsPath)
	if err != nil {
		t.Fatal(err)
	}
	var jobs []confJob
	if err := json.Unmarshal(data, &jobs); err != nil {
		t.Fatal(err)
	}
	inv := lambda.New(os.Getenv("STEPWELL_CONF_LAMBDA"), nil)
	e := engine.New(engine.Config{TimeScale: 0.05, Invoker: inv, Region: "us-east-1", AccountID: "111111111111"})
	obs := make([]confObs, len(jobs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int, j confJob) {
			defer wg.Done()
			defer func() { <-sem }()
			obs[i] = runJob(e, j)
		}(i, j)
	}
	wg.Wait()
	out, _ := json.Marshal(obs)
	if err := os.WriteFile(os.Getenv("STEPWELL_CONF_OUT"), out, 0o644); err != nil {
		t.Fatal(err)
	}
}

func runJob(e *engine.Engine, j confJob) confObs {
	o := confObs{ID: j.ID}
	sm, err := asl.Load([]byte(j.Definition), asl.Options{Express: j.Type == "EXPRESS"})
	if err != nil {
		o.LoadErr = err.Error()
		return o
	}
	smARN := "arn:aws:states:us-east-1:111111111111:stateMachine:" + j.SMName
	exARN := "arn:aws:states:us-east-1:111111111111:execution:" + j.SMName + ":" + j.ExecName
	if j.Type == "EXPRESS" {
		exARN = "arn:aws:states:us-east-1:111111111111:express:" + j.SMName + ":" + j.ExecName + ":0f0e0d0c-0b0a-4908-8706-050403020100"
	}
	x := &engine.Execution{ARN: exARN, Name: j.ExecName, StateMachineARN: smARN, StateMachineName: j.SMName,
		RoleARN: j.RoleARN, Type: j.Type, Input: j.Input, StartTime: time.Now(), Machine: sm}
	rec := &keepAll{}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res := e.Execute(ctx, x, rec)
	o.Status = string(res.Status)
	d := map[string]any{"status": string(res.Status)}
	if res.Output != nil {
		d["output"] = *res.Output
	}
	if res.Error != nil {
		d["error"] = *res.Error
	}
	if res.Cause != nil {
		d["cause"] = *res.Cause
	}
	o.Describe = d
	for _, ev := range rec.events {
		b, _ := json.Marshal(ev)
		o.History = append(o.History, b)
	}
	return o
}
