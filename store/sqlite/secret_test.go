package sqlite_test

import (
	"bytes"
	"context"
	"path/filepath"
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
