package app_test

import (
	"testing"
	"time"

	"github.com/stepwell/stepwell/internal/app"
)

// writes is told of every write to the stores of the servers the tests
// start (app.NewWatched with app.Watch{Writes: writes}), so that tests wait
// for what the server records instead of sleeping.
var writes = &app.Writes{}

// waitFor waits until cond holds, checking it again after each store
// write; after 10 s it fails the test (a hang, not a timing).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		next := writes.Next() // before cond: no write is missed
		if cond() {
			return
		}
		select {
		case <-next:
		case <-timeout:
			t.Fatalf("waiting for %s: nothing after 10 s", what)
		}
	}
}
