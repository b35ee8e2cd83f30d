// Package motoserver starts moto_server, the AWS service emulator, for tests
// that reach AWS services (SQS, SNS, DynamoDB, S3, EventBridge, Secrets
// Manager, SSM, KMS, STS, …) through their real protocols.
//
// Start runs one moto_server per call on a free loopback port and stops it
// when the test ends. Without a moto_server on PATH the test is skipped with
// a message saying how to install it, except under CI (CI or
// STEPWELL_REQUIRE_MOTO set), where it fails: CI must run these tests.
package motoserver

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"testing"
	"time"
)

// AccountID is the AWS account the emulator's ARNs and queue URLs carry
// (MOTO_ACCOUNT_ID), the one the conformance corpus recorded.
const AccountID = "111111111111"

// startTimeout bounds how long moto_server may take to listen.
const startTimeout = 60 * time.Second

// running matches werkzeug's announcement of the address it listens on.
var running = regexp.MustCompile(`Running on (http://[0-9.]+:[0-9]+)`)

// Required reports whether a missing moto_server fails tests instead of
// skipping them: under CI (CI set) or when STEPWELL_REQUIRE_MOTO is set.
func Required() bool { return os.Getenv("CI") != "" || os.Getenv("STEPWELL_REQUIRE_MOTO") != "" }

// Start starts moto_server on a free loopback port and returns its base URL
// (http://127.0.0.1:PORT). The server stops when t ends; its log is printed
// if t failed.
func Start(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("moto_server")
	if err != nil {
		msg := "moto_server is not installed (pip install 'moto[server]'): " + err.Error()
		if Required() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, path, "-H", "127.0.0.1", "-p", "0")
	cmd.Env = append(os.Environ(), "MOTO_ACCOUNT_ID="+AccountID)
	cmd.WaitDelay = 5 * time.Second
	stderr, err := cmd.StderrPipe()
	if err != nil {
		cancel()
		t.Fatalf("moto_server: %v", err)
	}
	cmd.Stdout = nil
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("moto_server: %v", err)
	}
	log := &syncBuffer{}
	url := make(chan string, 1)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			log.WriteLine(line)
			if m := running.FindStringSubmatch(line); m != nil {
				select {
				case url <- m[1]:
				default:
				}
			}
		}
		close(url)
	}()
	stop := func() {
		cancel()
		<-drained
		_ = cmd.Wait()
	}
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case u, ok := <-url:
		if !ok {
			stop()
			t.Fatalf("moto_server exited before listening:\n%s", log)
		}
		t.Cleanup(func() {
			stop()
			if t.Failed() {
				t.Logf("moto_server log:\n%s", log)
			}
		})
		return u
	case <-timer.C:
		stop()
		t.Fatalf("moto_server did not listen within %v:\n%s", startTimeout, log)
	}
	return ""
}

// syncBuffer is the server's log, written by the reader goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) WriteLine(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	fmt.Fprintln(&b.buf, s)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
