package hostile

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// diskFullNotRun is what TestDiskFull prints when it cannot fill a disk;
// scripts/test.sh lists it among what did not run.
const diskFullNotRun = "NOT RUN: TestDiskFull"

// TestDiskFull fills the disk of the embedded store while executions
// run: their history writes fail, they wait RUNNING, and once space
// returns they continue to their end, without a restart, their histories
// whole. The disk is a small tmpfs (mounting needs root); where mounting
// is not permitted, the server's file size limit (RLIMIT_FSIZE, set with
// prlimit) stands for it (STEPWELL_DISKFULL_NO_MOUNT=1 forces that way);
// where neither works the test says NOT RUN.
func TestDiskFull(t *testing.T) {
	skipUnlessEnabled(t)
	dir := t.TempDir()
	fill, free, how := smallDisk(t, dir)
	if fill == nil {
		t.Log(diskFullNotRun + ": " + how)
		fmt.Println(diskFullNotRun + ": " + how)
		t.Skip(diskFullNotRun + ": " + how)
	}
	t.Logf("disk: %s", how)
	s := startServer(t, "--data-dir", filepath.Join(dir, "data"), "--memory-budget", "512MiB", "--console=false", "--time-scale", "0.1")
	// Each execution waits 1 s (scaled), then writes about 2 MB of history.
	def := `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":10,"Next":"M"},
"M":{"Type":"Map","ItemsPath":"$.items","ItemSelector":{"s.$":"$.s"},"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","Result":1,"End":true}}},"ResultSelector":{"n":1},"End":true}}}`
	input := `{"items":[` + strings.Repeat("0,", 39) + `0],"s":"` + strings.Repeat("x", 50_000) + `"}`
	var sm struct{ StateMachineArn string }
	s.must("CreateStateMachine", map[string]any{"name": "diskfull", "definition": def, "roleArn": role}, &sm)
	var arns []string
	for i := range 6 {
		var x struct{ ExecutionArn string }
		s.must("StartExecution", map[string]any{"stateMachineArn": sm.StateMachineArn, "name": fmt.Sprint("full-", i), "input": input}, &x)
		arns = append(arns, x.ExecutionArn)
	}
	began := time.Now()
	fill(s)
	// The executions wake and cannot write: they wait, RUNNING.
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(s.log.String(), "history write failed") {
		if time.Now().After(deadline) {
			t.Fatalf("no history write failed within 60s:\n%s", tailOf(s.log.String()))
		}
		time.Sleep(50 * time.Millisecond) // waiting for the server's log line
	}
	for _, a := range arns {
		var d struct{ Status string }
		s.must("DescribeExecution", map[string]any{"executionArn": a}, &d)
		if d.Status != "RUNNING" {
			t.Errorf("%s: %s while the disk is full, want RUNNING", a, d.Status)
		}
	}
	t.Logf("a history write failed %v after the disk was filled", time.Since(began).Round(time.Millisecond))
	freed := time.Now()
	free(s)
	var tl tally
	for _, a := range arns {
		var d struct{ Status, Error, Cause string }
		for {
			s.must("DescribeExecution", map[string]any{"executionArn": a}, &d)
			if d.Status != "RUNNING" || time.Now().After(deadline.Add(60*time.Second)) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if d.Status != "SUCCEEDED" {
			t.Errorf("%s: %s %s %s once space returned, want SUCCEEDED", a, d.Status, d.Error, d.Cause)
		}
		checkTerminal(t, s, &tl, a, a, d.Status)
	}
	t.Logf("the executions ended %v after space returned", time.Since(freed).Round(time.Millisecond))
	for _, p := range tl.problems {
		t.Error(p)
	}
	s.alive()
}

// smallDisk makes dir a disk that the test can fill: fill fills it (or
// stops the server's files from growing), free gives the space back. how
// says which; fill is nil when neither works (how says why).
func smallDisk(t *testing.T, dir string) (fill, free func(*server), how string) {
	mount := exec.Command("mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", dir)
	if os.Getenv("STEPWELL_DISKFULL_NO_MOUNT") == "1" { // to try the other way
		mount = exec.Command("false")
	}
	out, err := mount.CombinedOutput()
	if err == nil {
		t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
		filler := filepath.Join(dir, "filler")
		fill = func(*server) {
			f, err := os.Create(filler)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			buf := make([]byte, 1<<20)
			for {
				if _, err := f.Write(buf); err != nil {
					if !errors.Is(err, syscall.ENOSPC) {
						t.Fatal(err)
					}
					return
				}
			}
		}
		free = func(*server) {
			if err := os.Remove(filler); err != nil {
				t.Fatal(err)
			}
		}
		return fill, free, "a 48 MiB tmpfs, filled"
	}
	why := "mount -t tmpfs: " + strings.TrimSpace(string(out))
	if _, err := exec.LookPath("prlimit"); err != nil {
		return nil, nil, why + "; no prlimit for RLIMIT_FSIZE either"
	}
	setFsize := func(s *server, n string) {
		if out, err := exec.Command("prlimit", "--pid", strconv.Itoa(s.cmd.Process.Pid), "--fsize="+n).CombinedOutput(); err != nil {
			t.Fatalf("prlimit: %v %s", err, out)
		}
	}
	fill = func(s *server) {
		// The files may not grow past their size now.
		var largest int64
		entries, _ := os.ReadDir(filepath.Join(dir, "data"))
		for _, e := range entries {
			if fi, err := e.Info(); err == nil && fi.Size() > largest {
				largest = fi.Size()
			}
		}
		setFsize(s, strconv.FormatInt(largest+64<<10, 10)+":unlimited") // the soft limit only
	}
	free = func(s *server) { setFsize(s, "unlimited:unlimited") }
	return fill, free, why + "; the server's RLIMIT_FSIZE stands for a full disk"
}
