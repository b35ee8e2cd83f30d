package tasktoken_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/integrations"
	"github.com/stepwell/stepwell/integrations/tasktoken"
	"github.com/stepwell/stepwell/store/memory"
)

// routed is a routed integration with a check and resumption of its own:
// it refuses the resources containing "refused" and resumes every task.
type routed struct{ checked, resumed []string }

func (r *routed) Invoke(ctx context.Context, t *engine.Task) (any, error) { return "invoked", nil }

func (r *routed) Check(ctx context.Context, t *engine.Task) error {
	r.checked = append(r.checked, t.Resource)
	if strings.Contains(t.Resource, "refused") {
		return errors.New("refused by the route")
	}
	return nil
}

func (r *routed) Resume(ctx context.Context, t *engine.Task) (func() (any, error), error) {
	r.resumed = append(r.resumed, t.Resource)
	return func() (any, error) { return "resumed", nil }, nil
}

// TestGuard_PassesCapabilitiesOn: Wrap and Guard over a router check every
// task with the check of the route that runs it, and resume with its
// Resumer the tasks whose tokens the broker does not hold, while the
// broker resumes the .waitForTaskToken and activity tasks. (Before, they
// looked for a Checker on the router by type assertion and found none, and
// resumed only through the broker: the route's capabilities were lost.)
func TestGuard_PassesCapabilitiesOn(t *testing.T) {
	const (
		plain    = "arn:aws:states:::custom:run"
		refused  = "arn:aws:states:::custom:refused"
		callback = "arn:aws:states:::custom:run.waitForTaskToken"
	)
	for _, name := range []string{"Wrap", "Guard"} {
		t.Run(name, func(t *testing.T) {
			r := &routed{}
			router := integrations.NewRouter().Add(integrations.Route{
				Match: func(string) bool { return true }, Invoker: r, Checker: r, Resumer: r})
			b := tasktoken.New(memory.NewActivities())
			inv := b.Wrap(router)
			if name == "Guard" {
				inv = b.Guard(router)
			}
			ctx := context.Background()
			if err := inv.Check(ctx, &engine.Task{Resource: refused}); err == nil || err.Error() != "refused by the route" {
				t.Errorf("Check(refused) = %v, want the route's refusal", err)
			}
			if err := inv.Check(ctx, &engine.Task{Resource: plain}); err != nil {
				t.Errorf("Check(plain) = %v", err)
			}
			err := inv.Check(ctx, &engine.Task{Resource: actARN})
			if err == nil || !strings.Contains(err.Error(), "does not exist") {
				t.Errorf("Check(unknown activity) = %v, want does not exist", err)
			}
			if want := []string{refused, plain, actARN}; strings.Join(r.checked, " ") != strings.Join(want, " ") {
				t.Errorf("the route checked %v, want %v", r.checked, want)
			}

			wait, err := inv.Resume(ctx, &engine.Task{Resource: plain, TaskToken: "t-1"})
			if err != nil {
				t.Fatalf("Resume(plain): %v", err)
			}
			if got, err := wait(); got != "resumed" || err != nil {
				t.Errorf("Resume(plain) waits for %v, %v; want the route's", got, err)
			}
			cctx, cancel := context.WithCancel(ctx)
			wait, err = inv.Resume(cctx, &engine.Task{Resource: callback, TaskToken: "t-2"})
			if err != nil {
				t.Fatalf("Resume(callback): %v", err)
			}
			if b.OpenTasks() != 1 {
				t.Errorf("the broker holds %d tasks after resuming a callback, want 1", b.OpenTasks())
			}
			cancel()
			if _, err := wait(); !errors.Is(err, context.Canceled) {
				t.Errorf("resumed callback after cancel: %v", err)
			}
			if len(r.resumed) != 1 || r.resumed[0] != plain {
				t.Errorf("the route resumed %v, want only %s", r.resumed, plain)
			}
		})
	}
}
