// Package motoserver starts moto_server, the AWS service emulator, for tests
// that reach AWS services (SQS, SNS, DynamoDB, S3, EventBridge, Secrets
// Manager, SSM, KMS, STS, …) through their real protocols.
//
// Run starts one moto_server on a free loopback port (Start does for one
// test and stops it when the test ends; a package can share one started in
// TestMain). Without a moto_server on PATH the test is skipped with
// a message saying how to install it, except under CI (CI or
// STEPWELL_REQUIRE_MOTO set), where it fails: CI must run these tests.
package motoserver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
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

// ErrNotInstalled is returned by Run when no moto_server is on PATH.
var ErrNotInstalled = errors.New("moto_server is not installed (pip install 'moto[server]')")

// Server is a running moto_server.
type Server struct {
	// URL is its base URL, http://127.0.0.1:PORT.
	URL string

	cancel  context.CancelFunc
	cmd     *exec.Cmd
	drained chan struct{}
	log     *syncBuffer
}

// Run starts moto_server on a free loopback port and waits until it
// listens. Stop it with Stop.
func Run() (*Server, error) {
	path, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotInstalled, err)
	}
	return RunCommand(path)
}

// RunCommand is Run with another executable that takes moto_server's flags
// and prints its address as moto_server does (scripts/moto/moto_aws.py).
// It needs moto_server installed all the same: ErrNotInstalled without it.
func RunCommand(path string) (*Server, error) {
	if _, err := exec.LookPath("moto_server"); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotInstalled, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, path, "-H", "127.0.0.1", "-p", "0")
	cmd.Env = append(os.Environ(), "MOTO_ACCOUNT_ID="+AccountID)
	cmd.WaitDelay = 5 * time.Second
	stderr, err := cmd.StderrPipe()
	if err != nil {
		cancel()
		return nil, fmt.Errorf("moto_server: %w", err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("moto_server: %w", err)
	}
	s := &Server{cancel: cancel, cmd: cmd, drained: make(chan struct{}), log: &syncBuffer{}}
	url := make(chan string, 1)
	go func() {
		defer close(s.drained)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			s.log.WriteLine(line)
			if m := running.FindStringSubmatch(line); m != nil {
				select {
				case url <- m[1]:
				default:
				}
			}
		}
		close(url)
	}()
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case u, ok := <-url:
		if !ok {
			s.Stop()
			return nil, fmt.Errorf("moto_server exited before listening:\n%s", s.Log())
		}
		s.URL = u
		return s, nil
	case <-timer.C:
		s.Stop()
		return nil, fmt.Errorf("moto_server did not listen within %v:\n%s", startTimeout, s.Log())
	}
}

// Stop stops the server and waits for it to exit.
func (s *Server) Stop() {
	s.cancel()
	<-s.drained
	_ = s.cmd.Wait()
}

// Log returns what the server printed so far.
func (s *Server) Log() string { return s.log.String() }

// Start runs a moto_server for t (see Run) and returns its base URL. The
// server stops when t ends; its log is printed if t failed. Without
// moto_server, t is skipped, or fails when Required.
func Start(t testing.TB) string {
	t.Helper()
	return start(t, Run)
}

// StartCommand is Start with RunCommand(path).
func StartCommand(t testing.TB, path string) string {
	t.Helper()
	return start(t, func() (*Server, error) { return RunCommand(path) })
}

func start(t testing.TB, run func() (*Server, error)) string {
	t.Helper()
	s, err := run()
	if err != nil {
		Unavailable(t, err)
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("moto_server log:\n%s", s.Log())
		}
	})
	return s.URL
}

// Unavailable ends t for err, Run's error: a skip when moto_server is not
// installed and not Required, a failure otherwise.
func Unavailable(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, ErrNotInstalled) && !Required() {
		t.Skip(err)
	}
	t.Fatal(err)
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
