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
