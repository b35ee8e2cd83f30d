package sqlite_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestTaskTokenKey: the first key stored is kept, across a reopen too.
func TestTaskTokenKey(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	s := open(t, path)
	first := bytes.Repeat([]byte{1}, 32)
	got, err := s.TaskTokenKey(ctx, first)
	if err != nil || !bytes.Equal(got, first) {
		t.Fatalf("first key %x, %v", got, err)
	}
	if got, err := s.TaskTokenKey(ctx, bytes.Repeat([]byte{2}, 32)); err != nil || !bytes.Equal(got, first) {
		t.Fatalf("second call %x, %v", got, err)
	}
	if _, err := s.TaskTokenKey(ctx, nil); err == nil {
		t.Fatal("empty key accepted")
	}
	s.Close()
	s = open(t, path)
	defer s.Close()
	if got, err := s.TaskTokenKey(ctx, bytes.Repeat([]byte{3}, 32)); err != nil || !bytes.Equal(got, first) {
		t.Fatalf("after reopen %x, %v", got, err)
	}
}

// TestOpen_FileModes: the database (and its -wal, -shm and lock files) is
// readable by its owner only, even in an existing world-readable
// directory and with a permissive umask; a new directory is 0700.
func TestOpen_FileModes(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "s.db"), filepath.Join(dir, "new", "dir", "s.db")} {
		s := open(t, path)
		if _, err := s.TaskTokenKey(context.Background(), bytes.Repeat([]byte{1}, 32)); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{path, path + "-wal", path + "-shm", path + ".lock"} {
			fi, err := os.Stat(f)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v, want 0600", f, fi.Mode().Perm())
			}
		}
		s.Close()
	}
	for _, d := range []string{filepath.Join(dir, "new"), filepath.Join(dir, "new", "dir")} {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v %v, want 0700", d, fi.Mode().Perm(), err)
		}
	}
}
