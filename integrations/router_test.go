package integrations_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/integrations"
)

type named string

func (n named) Invoke(ctx context.Context, t *engine.Task) (any, error) { return string(n), nil }

func TestRouter(t *testing.T) {
	r := integrations.NewRouter().
		Handle(func(s string) bool { return strings.HasPrefix(s, "arn:aws:lambda:") }, named("lambda")).
		Handle(func(s string) bool { return strings.Contains(s, ":states:::") }, named("states")).
		Handle(func(s string) bool { return strings.Contains(s, "lambda") }, named("never first"))
	tests := []struct{ resource, want string }{
		{"arn:aws:lambda:us-east-1:1:function:f", "lambda"},
		{"arn:aws:states:::lambda:invoke", "states"},
		{"lambda-ish", "never first"},
	}
	for _, tt := range tests {
		got, err := r.Invoke(context.Background(), &engine.Task{Resource: tt.resource})
		if err != nil || got != tt.want {
			t.Errorf("Invoke(%q) = %v, %v; want %q", tt.resource, got, err, tt.want)
		}
	}
	_, err := r.Invoke(context.Background(), &engine.Task{Resource: "arn:aws:sqs:us-east-1:1:queue"})
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Name != fault.Runtime || !strings.Contains(fe.Cause, "sqs:us-east-1") {
		t.Errorf("unrouted resource: err = %v, want States.Runtime naming the resource", err)
	}
}

// capable is a route's Checker and Resumer: it refuses or resumes every
// task, naming itself.
type capable string

func (c capable) Check(ctx context.Context, t *engine.Task) error {
	return errors.New(string(c) + " checked " + t.Resource)
}

func (c capable) Resume(ctx context.Context, t *engine.Task) (func() (any, error), error) {
	return func() (any, error) { return string(c) + " resumed " + t.Resource, nil }, nil
}

// TestRouter_Capabilities: a task is checked and resumed by the
// capabilities given to the route that runs it (the first match), never
// by another route's; a route given none checks nothing and resumes
// nothing, and neither does an unrouted resource.
func TestRouter_Capabilities(t *testing.T) {
	r := integrations.NewRouter().
		Add(integrations.Route{Match: func(s string) bool { return strings.HasPrefix(s, "a:") }, Invoker: named("a"), Checker: capable("a"), Resumer: capable("a")}).
		Handle(func(s string) bool { return strings.HasPrefix(s, "b:") }, named("b")).
		Add(integrations.Route{Match: func(s string) bool { return strings.HasPrefix(s, "c:") }, Invoker: named("c"), Resumer: capable("c")}).
		Add(integrations.Route{Match: func(string) bool { return true }, Invoker: named("any"), Checker: capable("any")})
	tests := []struct {
		resource       string
		check, resumed string // "" : passes / not resumable
	}{
		{resource: "a:1", check: "a checked a:1", resumed: "a resumed a:1"},
		{resource: "b:1"},
		{resource: "c:1", resumed: "c resumed c:1"},
		{resource: "d:1", check: "any checked d:1"},
	}
	ctx := context.Background()
	for _, tt := range tests {
		task := &engine.Task{Resource: tt.resource}
		err := r.Check(ctx, task)
		if got := errText(err); got != tt.check {
			t.Errorf("Check(%q) = %q, want %q", tt.resource, got, tt.check)
		}
		wait, err := r.Resume(ctx, task)
		if tt.resumed == "" {
			if !errors.Is(err, engine.ErrNotResumable) {
				t.Errorf("Resume(%q): err %v, want ErrNotResumable", tt.resource, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Resume(%q): %v", tt.resource, err)
		}
		if got, err := wait(); err != nil || got != tt.resumed {
			t.Errorf("Resume(%q) waits for %v, %v; want %q", tt.resource, got, err, tt.resumed)
		}
	}
	empty := integrations.NewRouter()
	if err := empty.Check(ctx, &engine.Task{Resource: "x"}); err != nil {
		t.Errorf("unrouted Check: %v", err)
	}
	if _, err := empty.Resume(ctx, &engine.Task{Resource: "x"}); !errors.Is(err, engine.ErrNotResumable) {
		t.Errorf("unrouted Resume: %v, want ErrNotResumable", err)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
