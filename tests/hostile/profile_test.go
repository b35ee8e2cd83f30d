package hostile

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestHostileProfile runs each hostile execution alone and logs the peak
// resident memory of the server while it ran (STEPWELL_HOSTILE_PROFILE=1):
// to find which one costs the most.
func TestHostileProfile(t *testing.T) {
	if os.Getenv("STEPWELL_HOSTILE_PROFILE") != "1" {
		t.Skip("set STEPWELL_HOSTILE_PROFILE=1")
	}
	s := startServer(t, "--data-dir", t.TempDir(), "--memory-budget", "512MiB", "--console=false")
	for i, r := range runs() {
		_ = os.WriteFile("/proc/"+strconv.Itoa(s.cmd.Process.Pid)+"/clear_refs", []byte("5"), 0)
		began := time.Now()
		var sm struct{ StateMachineArn string }
		if resp, _ := s.call("CreateStateMachine", map[string]any{"name": fmt.Sprint("p", i), "definition": r.def, "roleArn": role}, &sm); resp.status != 200 {
			t.Logf("%s: create %d", r.name, resp.status)
			continue
		}
		var x struct{ ExecutionArn string }
		s.must("StartExecution", map[string]any{"stateMachineArn": sm.StateMachineArn, "input": r.input}, &x)
		var d struct{ Status string }
		for {
			s.must("DescribeExecution", map[string]any{"executionArn": x.ExecutionArn}, &d)
			if d.Status != "RUNNING" {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		hwm, _ := s.status("VmHWM")
		rss, _ := s.status("VmRSS")
		t.Logf("%-45s %-9s %6v  VmHWM %4d MiB  VmRSS %4d MiB", r.name, d.Status, time.Since(began).Round(time.Millisecond), hwm>>20, rss>>20)
	}
}
