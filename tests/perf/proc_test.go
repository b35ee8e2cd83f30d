//go:build linux

package perf

import (
	"os"
	"testing"
	"time"
)

func TestParseProcStat(t *testing.T) {
	tests := []struct {
		line    string
		want    procStat
		wantErr bool
	}{
		{line: "4242 (stepwell) S 1 4242 4242 0 -1 4194560 1234 0 0 0 731 129 0 0 20 0 9 0 100 0 0",
			want: procStat{utime: 731, stime: 129}},
		{line: "7 (a) b) c) R 1 7 7 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 1 0 0", want: procStat{utime: 5, stime: 6}},
		{line: "7 (x) R 1 7 7", wantErr: true},
		{line: "no command name", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseProcStat(tt.line)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseProcStat(%q) = %+v, %v; want %+v, error %t", tt.line, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseVmRSS(t *testing.T) {
	got, err := parseVmRSS("Name:\tstepwell\nVmPeak:\t  900 kB\nVmRSS:\t   16384 kB\nThreads:\t9\n")
	if err != nil || got != 16<<20 {
		t.Errorf("parseVmRSS = %d, %v; want %d", got, err, 16<<20)
	}
	if _, err := parseVmRSS("Name:\tstepwell\n"); err == nil {
		t.Error("parseVmRSS without a VmRSS line: no error")
	}
}

// TestProcesses reads this process's own CPU time and RSS, as the
// benchmarks read the server's.
func TestProcesses(t *testing.T) {
	if got := rss(t, os.Getpid()); got < 1<<20 {
		t.Errorf("rss of this process = %d bytes", got)
	}
	if got := cpuTime(t, os.Getpid()); got < 0 || got > time.Hour {
		t.Errorf("cpuTime of this process = %v", got)
	}
}

func TestParseMemStats(t *testing.T) {
	text := "heap profile: 1: 2 [3: 4] @ heap/1048576\n1: 2 [3: 4] @ 0x1\n\n# runtime.MemStats\n# Alloc = 100\n# TotalAlloc = 123456\n# Mallocs = 789\n# PauseNs = [1 2 3]\n# NumGC = 12\n"
	got, err := parseMemStats(text)
	if err != nil {
		t.Fatal(err)
	}
	if got["TotalAlloc"] != 123456 || got["Mallocs"] != 789 || got["NumGC"] != 12 || got["Alloc"] != 100 {
		t.Errorf("parseMemStats = %v", got)
	}
	if _, err := parseMemStats("# Alloc = 1\n"); err == nil {
		t.Error("no error without TotalAlloc, Mallocs and NumGC")
	}
}

func TestParseSamples(t *testing.T) {
	m := parseSamples("# HELP stepwell_store_commits_total x\n# TYPE stepwell_store_commits_total counter\nstepwell_store_commits_total 12\nstepwell_store_writes_total 345\nstepwell_requests_total{op=\"x\"} 9\n")
	if m["stepwell_store_commits_total"] != 12 || m["stepwell_store_writes_total"] != 345 || len(m) != 2 {
		t.Errorf("parseSamples = %v", m)
	}
}
