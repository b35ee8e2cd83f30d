package api_test

import (
	"testing"

	"github.com/stepwell/stepwell/api"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/executions"
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
