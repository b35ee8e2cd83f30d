package api_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stepwell/stepwell/api"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/memory"
)

// allInOne is a store that also keeps versions and activities, as the
// SQLite and PostgreSQL stores do.
type allInOne struct {
	*memory.Store
	*memory.Versions
	*memory.Activities
}

var (
	_ store.Versions      = allInOne{}
	_ store.ActivityStore = allInOne{}
)

// TestConfig_StoresAreExplicit: the API uses the versions and activity
// stores it is given, and never finds them on Config.Store by type
// assertion (a decorated store would hide them again): without them,
// those operations answer UnsupportedOperation even over a store that has
// them; given them, they work.
func TestConfig_StoresAreExplicit(t *testing.T) {
	st := allInOne{memory.New(memory.Options{}), memory.NewVersions(), memory.NewActivities()}
	ec := executions.Config{Store: st, Engine: engine.New(engine.Config{})}
	const createActivity = `{"name":"work"}`
	const listVersions = `{"stateMachineArn":"arn:aws:states:us-east-1:111111111111:stateMachine:none"}`

	bare := newAPI(t, ec, api.Config{})
	wantError(t, bare, "CreateActivity", createActivity, "UnsupportedOperation", "Activities")
	wantError(t, bare, "ListStateMachineVersions", listVersions, "UnsupportedOperation", "")

	given := newAPI(t, ec, api.Config{Versions: st, Activities: st})
	ok(t, given, "CreateActivity", createActivity)
	ok(t, given, "ListStateMachineVersions", listVersions)
}

// failingStore refuses every new execution with err.
type failingStore struct {
	*memory.Store
	err error
}

func (f failingStore) CreateExecution(context.Context, *store.Execution, []history.Event, *store.End) error {
	return f.err
}

// TestInternalFailure: an error of the server is answered with AWS's
// generic InternalFailure, its details only logged; a store write
// refused because the server is stopping is an InternalFailure saying so.
func TestInternalFailure(t *testing.T) {
	tests := []struct {
		name, msg string
		err       error
		logged    bool
	}{
		{"store error", "unknown error", errors.New("disk on fire at /secret/path"), true},
		{"shutting down", "shutting down", fmt.Errorf("%w: %w", executions.ErrShuttingDown, store.ErrConflict), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logged bytes.Buffer
			st := failingStore{memory.New(memory.Options{}), tt.err}
			s := newAPI(t, executions.Config{Store: st, Engine: engine.New(engine.Config{})},
				api.Config{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
			sm := create(t, s, "m", `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`, "")
			r := call(t, s, "StartExecution", `{"stateMachineArn":"`+sm+`"}`)
			msg, _ := r.body["message"].(string)
			if r.status != 500 || r.body["__type"] != "com.amazon.coral.service#InternalFailure" || !strings.Contains(msg, tt.msg) {
				t.Fatalf("answer %d %s, want InternalFailure %q", r.status, r.raw, tt.msg)
			}
			if strings.Contains(r.raw, "secret") || strings.Contains(r.raw, "conflict") {
				t.Fatalf("answer shows the error's details: %s", r.raw)
			}
			if tt.logged && !strings.Contains(logged.String(), tt.err.Error()) {
				t.Fatalf("error not logged: %q", logged.String())
			}
		})
	}
}
