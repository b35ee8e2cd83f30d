package app

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/stepwell/stepwell/engine"
	awsint "github.com/stepwell/stepwell/integrations/aws"
	"github.com/stepwell/stepwell/value"
)

// TestInvoker_AWS: the invoker sends AWS service tasks to the endpoints
// of c.AWS, and the SDK's Lambda calls to --lambda-endpoint unless an
// endpoint names the lambda service. The endpoint is a recorder of the
// requests that reach it (what it answers does not matter here).
func TestInvoker_AWS(t *testing.T) {
	var mu sync.Mutex
	var got []string
	endpoint := func(name string) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			mu.Lock()
			got = append(got, name+" "+r.Method+" "+r.URL.Path+" "+r.Header.Get("X-Amz-Target"))
			mu.Unlock()
			w.WriteHeader(http.StatusTeapot)
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	emulator, lambda := endpoint("emulator"), endpoint("lambda")
	creds := &aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}
	sendMessage := &engine.Task{Resource: "arn:aws:states:::sqs:sendMessage", Region: "us-east-1",
		Input: value.NewObject(2).With("QueueUrl", emulator.URL+"/123456789012/q").With("MessageBody", "hi")}
	invoke := &engine.Task{Resource: "arn:aws:states:::aws-sdk:lambda:invoke", Region: "us-east-1",
		Input: value.NewObject(1).With("FunctionName", "f")}
	for _, tt := range []struct {
		name string
		c    Config
		task *engine.Task
		want string
	}{
		{"sqs endpoint", Config{AWS: awsint.Config{Endpoints: map[string]string{"sqs": emulator.URL}, Static: creds}},
			sendMessage, "emulator POST / AmazonSQS.SendMessage"},
		{"default endpoint", Config{AWS: awsint.Config{Endpoints: map[string]string{"": emulator.URL}, Static: creds}},
			sendMessage, "emulator POST / AmazonSQS.SendMessage"},
		{"lambda endpoint", Config{LambdaEndpoint: lambda.URL, AWS: awsint.Config{Endpoints: map[string]string{"": emulator.URL}, Static: creds}},
			invoke, "lambda POST /2015-03-31/functions/f/invocations "},
		{"lambda service endpoint", Config{LambdaEndpoint: lambda.URL, AWS: awsint.Config{Endpoints: map[string]string{"lambda": emulator.URL}, Static: creds}},
			invoke, "emulator POST /2015-03-31/functions/f/invocations "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			got = nil
			mu.Unlock()
			inv, err := Invoker(tt.c)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := inv.Invoke(context.Background(), tt.task); err == nil {
				t.Errorf("Invoke succeeded against an endpoint answering 418")
			}
			mu.Lock()
			defer mu.Unlock()
			// The SDK retries a 418 it cannot read; every attempt goes to the same place.
			if len(got) == 0 || got[0] != tt.want {
				t.Errorf("requests %q, want %q", got, tt.want)
			}
		})
	}
}

// TestConfig_AWSEndpoints: Validate checks the AWS endpoints as the
// --aws-endpoint flag does.
func TestConfig_AWSEndpoints(t *testing.T) {
	c := DefaultConfig()
	c.AWS.Endpoints = map[string]string{"": "http://moto:5000", "sqs": "http://sqs:1"}
	if err := c.Validate(); err != nil {
		t.Fatalf("valid endpoints: %v", err)
	}
	c.AWS.Endpoints = map[string]string{"nosuch": "http://x:1", "sqs": "sqs-host:9324"}
	err := c.Validate()
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "aws-endpoint" || !strings.Contains(err.Error(), `"nosuch=http://x:1"`) ||
		!strings.Contains(err.Error(), `"sqs=sqs-host:9324"`) {
		t.Errorf("Validate: %v, want both endpoints reported as aws-endpoint", err)
	}
	if got := FormatAWSEndpoints(map[string]string{"sqs": "http://b", "": "http://a", "s3": "https://user:hunter2@s3.example"}); got != "*=http://a,s3=https://user:***@s3.example,sqs=http://b" {
		t.Errorf("FormatAWSEndpoints = %q", got)
	}
}
