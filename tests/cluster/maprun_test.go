package cluster

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// slowMap is a Distributed Map of 20 items from its input, one at a time,
// each a Wait of 1 s (at timeScale): about 20 s unless its MaxConcurrency
// is raised. Its children are EXPRESS, run by the parent's engine: a Map
// Run of STANDARD children (executions of their own) is not listed until
// it ends, for now.
const slowMap = `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":1,
 "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},
  "StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100,"End":true}}},"End":true}}}`

// TestClusterUpdateMapRun checks that UpdateMapRun sent to a node that
// does not run the Map Run reaches the one that does (it runs in the
// engine of the node driving its execution), and that each node's
// /metrics names it.
func TestClusterUpdateMapRun(t *testing.T) {
	base := os.Getenv("STEPWELL_TEST_POSTGRES_DSN")
	if base == "" {
		if os.Getenv("STEPWELL_REQUIRE_POSTGRES") == "1" {
			t.Fatal("STEPWELL_TEST_POSTGRES_DSN is not set but STEPWELL_REQUIRE_POSTGRES=1")
		}
		t.Skip("STEPWELL_TEST_POSTGRES_DSN is not set")
	}
	dsn, _ := freshSchema(t, base)
	bin := filepath.Join(t.TempDir(), "stepwell")
	if out, err := execCommand("go", "build", "-o", bin, "./cmd/stepwell"); err != nil {
		t.Fatalf("build stepwell: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	logDir := t.TempDir()
	var nodes []*server
	for i := range 2 {
		s := &server{name: fmt.Sprintf("node-%d", i), log: filepath.Join(logDir, fmt.Sprintf("node-%d.log", i)), addr: freeAddr(t)}
		s.args = []string{"serve", "--addr", s.addr, "--store", dsn, "--time-scale", strconv.FormatFloat(timeScale, 'g', -1, 64),
			"--account-id", account, "--node-name", s.name, "--lease", lease.String(), "--console=false"}
		if err := s.start(bin); err != nil {
			t.Fatal(err)
		}
		defer s.kill()
		s.client = newClient("http://" + s.addr)
		nodes = append(nodes, s)
	}
	// Each node's /metrics names it.
	for _, s := range nodes {
		resp, err := http.Get("http://" + s.addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, re := range []string{`(?m)^stepwell_node_info\{node="` + s.name + `",node_id="\d+"\} 1$`, `(?m)^stepwell_node_lease_held\{node="` + s.name + `"\} 1$`,
			`(?m)^stepwell_node_fenced_writes_total\{node="` + s.name + `"\} 0$`} {
			if !regexp.MustCompile(re).Match(b) {
				t.Errorf("%s's /metrics has no line %s:\n%s", s.name, re, b)
			}
		}
	}
	owner, other := nodes[0].client, nodes[1].client
	sm, err := owner.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("slow-map"),
		Definition: aws.String(slowMap), RoleArn: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}
	items := `[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19]`
	x, err := owner.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(`{"items":` + items + `}`)})
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	var runARN *string
	for runARN == nil {
		runs, err := other.ListMapRuns(ctx, &sfn.ListMapRunsInput{ExecutionArn: x.ExecutionArn})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs.MapRuns) > 0 {
			runARN = runs.MapRuns[0].MapRunArn
		} else {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if _, err := other.UpdateMapRun(ctx, &sfn.UpdateMapRunInput{MapRunArn: runARN, MaxConcurrency: aws.Int32(20)}); err != nil {
		t.Fatalf("UpdateMapRun on the node that does not run the Map Run: %v", err)
	}
	d, err := other.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: runARN})
	if err != nil || d.MaxConcurrency != 20 {
		t.Fatalf("DescribeMapRun after the update: %+v, %v", d, err)
	}
	for {
		e, err := other.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: x.ExecutionArn})
		if err != nil {
			t.Fatal(err)
		}
		if e.Status != types.ExecutionStatusRunning {
			if e.Status != types.ExecutionStatusSucceeded {
				t.Fatalf("the execution ended %s: %s", e.Status, aws.ToString(e.Cause))
			}
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	// One item at a time, the items alone take 20 s.
	if took := time.Since(began); took > 15*time.Second {
		t.Errorf("the Map took %v: its items did not run 20 at a time after the update", took)
	}
	// A Map Run that does not run anywhere any more cannot be updated.
	_, err = other.UpdateMapRun(ctx, &sfn.UpdateMapRunInput{MapRunArn: runARN, MaxConcurrency: aws.Int32(5)})
	if err == nil {
		t.Error("UpdateMapRun of a completed Map Run succeeded")
	}
	t.Logf("UpdateMapRun through the other node: the Map of 20 one-second items took %v; on a completed Map Run: %v", time.Since(began).Round(time.Millisecond), err)
}
