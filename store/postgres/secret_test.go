package postgres_test

import (
	"bytes"
	"context"
	"testing"
)

// TestTaskTokenKey: the first key stored is kept, for every process on the
// database.
func TestTaskTokenKey(t *testing.T) {
	ctx := context.Background()
	dsn := freshSchema(t)
	s := open(t, dsn)
	first := bytes.Repeat([]byte{1}, 32)
	got, err := s.TaskTokenKey(ctx, first)
	if err != nil || !bytes.Equal(got, first) {
		t.Fatalf("first key %x, %v", got, err)
	}
	if _, err := s.TaskTokenKey(ctx, nil); err == nil {
		t.Fatal("empty key accepted")
	}
	other := open(t, dsn)
	if got, err := other.TaskTokenKey(ctx, bytes.Repeat([]byte{2}, 32)); err != nil || !bytes.Equal(got, first) {
		t.Fatalf("another connection %x, %v", got, err)
	}
}
