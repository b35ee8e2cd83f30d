package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stepwell/stepwell/store"
)

// RunActivities runs the suite of store.ActivityStore. newStore must
// return an empty store each call.
func RunActivities(t *testing.T, newStore func(t *testing.T) store.ActivityStore) {
	ctx := context.Background()
	arnOf := func(name string) string { return "arn:aws:states:us-east-1:111111111111:activity:" + name }
	t.Run("CreateGetDelete", func(t *testing.T) {
		s := newStore(t)
		at := time.Unix(1700000000, 0).UTC()
		a := &store.Activity{ARN: arnOf("a"), Name: "a", CreationDate: at, Tags: []byte(`[{"key":"k","value":"v"}]`)}
		if err := s.CreateActivity(ctx, a); err != nil {
			t.Fatal(err)
		}
		a.Tags[2] = 'X' // the store keeps its own copy
		if err := s.CreateActivity(ctx, a); !errors.Is(err, store.ErrAlreadyExists) {
			t.Fatalf("second create: %v", err)
		}
		got, err := s.GetActivity(ctx, arnOf("a"))
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "a" || !got.CreationDate.Equal(at) || string(got.Tags) != `[{"key":"k","value":"v"}]` || got.Encryption != nil {
			t.Fatalf("got %+v", got)
		}
		if _, err := s.GetActivity(ctx, arnOf("b")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("get missing: %v", err)
		}
		if err := s.DeleteActivity(ctx, arnOf("a")); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteActivity(ctx, arnOf("a")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
		if _, err := s.GetActivity(ctx, arnOf("a")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("get deleted: %v", err)
		}
		// The name can be used again.
		if err := s.CreateActivity(ctx, a); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ListPages", func(t *testing.T) {
		s := newStore(t)
		for i := range 7 {
			name := fmt.Sprintf("act%d", i)
			if err := s.CreateActivity(ctx, &store.Activity{ARN: arnOf(name), Name: name, CreationDate: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.DeleteActivity(ctx, arnOf("act3")); err != nil {
			t.Fatal(err)
		}
		names := allPages(t, 2, 10, func(p store.Page) ([]*store.Activity, string, error) { return s.ListActivities(ctx, p) },
			func(a *store.Activity) string { return a.Name })
		if fmt.Sprint(names) != "[act0 act1 act2 act4 act5 act6]" {
			t.Fatalf("listed %v", names)
		}
		if _, _, err := s.ListActivities(ctx, store.Page{Limit: 2, Token: "garbage"}); !errors.Is(err, store.ErrInvalidToken) {
			t.Fatalf("bad token: %v", err)
		}
	})
}
