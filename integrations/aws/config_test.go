package awsint_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/stepwell/stepwell/engine"
	awsint "github.com/stepwell/stepwell/integrations/aws"
	"github.com/stepwell/stepwell/internal/app"
	"github.com/stepwell/stepwell/value"
)

func TestFromEnv(t *testing.T) {
	env := map[string]string{
		"AWS_ENDPOINT_URL":                 "http://default:1",
		"AWS_ENDPOINT_URL_SQS":             "http://sqs:1",
		"SQS_ENDPOINT":                     "http://ignored:1", // the SDKs' name wins
		"SNS_ENDPOINT":                     "http://sns:1",     // Step Functions Local's name
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://sm:1",
		"AWS_ENDPOINT_URL_DYNAMODB":        "http://ddb:1",
		"STEP_FUNCTIONS_ENDPOINT":          "http://sfn:1",
		"AWS_DEFAULT_REGION":               "eu-west-1",
	}
	got := awsint.FromEnv(func(k string) string { return env[k] })
	want := awsint.Config{Region: "eu-west-1", Endpoints: map[string]string{
		"": "http://default:1", "sqs": "http://sqs:1", "sns": "http://sns:1", "secretsmanager": "http://sm:1",
		"dynamodb": "http://ddb:1", "sfn": "http://sfn:1",
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FromEnv = %+v, want %+v", got, want)
	}
	env["AWS_REGION"] = "ap-south-1"
	if got := awsint.FromEnv(func(k string) string { return env[k] }); got.Region != "ap-south-1" {
		t.Errorf("AWS_REGION does not win over AWS_DEFAULT_REGION: %q", got.Region)
	}
	if got := awsint.FromEnv(func(string) string { return "" }); got.Endpoints != nil || got.Region != "" {
		t.Errorf("empty environment: %+v", got)
	}
}

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		in, service, url string
		err              bool
	}{
		{"sqs=http://127.0.0.1:4566", "sqs", "http://127.0.0.1:4566", false},
		{"DynamoDB=https://ddb.local", "dynamodb", "https://ddb.local", false},
		{"http://127.0.0.1:5000", "", "http://127.0.0.1:5000", false},
		{"*=http://127.0.0.1:5000", "", "http://127.0.0.1:5000", false},
		{"sqs=http://h:1/path?x=a=b", "sqs", "http://h:1/path?x=a=b", false},
		{"nosuch=http://h:1", "", "", true},
		{"sqs=", "", "", true},
		{"sqs=ftp://h", "", "", true},
		{"sqs=127.0.0.1:4566", "", "", true},
		{"", "", "", true},
	}
	for _, tt := range tests {
		svc, url, err := awsint.ParseEndpoint(tt.in)
		if (err != nil) != tt.err || svc != tt.service || url != tt.url {
			t.Errorf("ParseEndpoint(%q) = %q, %q, %v", tt.in, svc, url, err)
		}
	}
}

func FuzzParseEndpoint(f *testing.F) {
	for _, s := range []string{"sqs=http://127.0.0.1:4566", "http://h", "*=https://x", "s3=", "=", "kms=http://[::1]:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		svc, url, err := awsint.ParseEndpoint(s)
		if err != nil {
			return
		}
		// What parses is accepted by New.
		if _, err := awsint.New(awsint.Config{Endpoints: map[string]string{svc: url}, Static: &dummy}); err != nil {
			t.Fatalf("ParseEndpoint(%q) = %q, %q but New: %v", s, svc, url, err)
		}
	})
}

func TestNewRejectsBadEndpoints(t *testing.T) {
	for _, eps := range []map[string]string{{"nosuch": "http://h:1"}, {"sqs": "not a url"}} {
		if _, err := awsint.New(awsint.Config{Endpoints: eps, Static: &dummy}); err == nil {
			t.Errorf("New accepted %v", eps)
		}
	}
}

func TestCheck(t *testing.T) {
	in, err := awsint.New(awsint.Config{Static: &dummy})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		resource string
		handles  bool
		ok       bool
	}{
		{"arn:aws:states:::sqs:sendMessage", true, true},
		{"arn:aws:states:::sqs:sendMessage.waitForTaskToken", true, true},
		{"arn:aws:states:::sns:publish.waitForTaskToken", true, true},
		{"arn:aws:states:::events:putEvents.waitForTaskToken", true, true},
		{"arn:aws:states:::dynamodb:updateItem", true, true},
		{"arn:aws:states:::dynamodb:getItem.waitForTaskToken", true, false},
		{"arn:aws:states:::dynamodb:query", true, false},
		{"arn:aws:states:::sqs:sendMessage.sync", true, false},
		{"arn:aws:states:::aws-sdk:s3:getObject", true, true},
		{"arn:aws:states:::aws-sdk:s3:listBuckets.waitForTaskToken", true, true},
		{"arn:aws:states:::aws-sdk:s3:getObject.sync", true, false},
		{"arn:aws:states:::aws-sdk:s3:noSuchAction", true, false},
		{"arn:aws:states:::aws-sdk:nosuch:describeThings", true, false},
		{"arn:aws:states:::aws-sdk:s3", true, false},
		{"arn:aws-cn:states:::aws-sdk:sfn:listStateMachines", true, true},
		{"arn:aws:states:::lambda:invoke", false, false},
		{"arn:aws:states:::states:startExecution", false, false},
		{"arn:aws:lambda:us-east-1:111111111111:function:f", false, false},
	}
	for _, tt := range tests {
		if got := awsint.Handles(tt.resource); got != tt.handles {
			t.Errorf("Handles(%s) = %v", tt.resource, got)
		}
		if !tt.handles {
			continue
		}
		err := in.Check(context.Background(), &engine.Task{Resource: tt.resource})
		if (err == nil) != tt.ok {
			t.Errorf("Check(%s) = %v", tt.resource, err)
		}
		if err != nil {
			if fe := failure(t, err); fe.Name != "States.Runtime" {
				t.Errorf("Check(%s) = %v, want States.Runtime", tt.resource, err)
			}
		}
	}
}

// TestNothingConfigured: without endpoint and credentials a task fails
// with States.Runtime saying what to set, and nothing is called.
func TestNothingConfigured(t *testing.T) {
	isolate(t)
	in, err := awsint.New(awsint.Config{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = in.Invoke(context.Background(), task("arn:aws:states:::aws-sdk:secretsmanager:listSecrets", `{}`))
	fe := failure(t, err)
	if fe.Name != "States.Runtime" || !strings.Contains(fe.Cause, "AWS_ENDPOINT_URL_SECRETS_MANAGER") || !strings.Contains(fe.Cause, "AWS_ACCESS_KEY_ID") {
		t.Errorf("got %s / %s", fe.Name, fe.Cause)
	}
}

// TestSigningCredentials: requests are signed with the standard chain's
// credentials when it has some, with placeholders when it has none and the
// service has an endpoint (an emulator), with Static when given.
func TestSigningCredentials(t *testing.T) {
	isolate(t)
	signed := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		_, rest, _ := strings.Cut(auth, "Credential=")
		key, _, _ := strings.Cut(rest, "/")
		select {
		case signed <- key:
		default:
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = w.Write([]byte(`{"QueueUrls":[]}`))
	}))
	defer srv.Close()
	tests := []struct {
		name   string
		env    map[string]string
		static bool
		want   string
	}{
		{"nothing configured", nil, false, "stepwell"},
		{"environment", map[string]string{"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "s"}, false, "AKIDENV"},
		{"static", map[string]string{"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "s"}, true, "test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			cfg := awsint.Config{Endpoints: map[string]string{"sqs": srv.URL}}
			if tt.static {
				cfg.Static = &dummy
			}
			in, err := awsint.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := in.Invoke(context.Background(), task("arn:aws:states:::aws-sdk:sqs:listQueues", `{}`)); err != nil {
				t.Fatal(err)
			}
			if got := <-signed; got != tt.want {
				t.Errorf("signed with %q, want %q", got, tt.want)
			}
		})
	}
}

// TestAssumeRole: a task's Credentials.RoleArn is assumed through the STS
// endpoint; without one (and without credentials) the task fails with
// States.Runtime.
func TestAssumeRole(t *testing.T) {
	e := startEmulator(t)
	const role = "arn:aws:iam::111111111111:role/worker"
	tk := task("arn:aws:states:::aws-sdk:sqs:listQueues", `{}`)
	tk.Credentials = value.MustParse(`{"RoleArn":"` + role + `"}`)
	if _, err := e.in.Invoke(context.Background(), tk); err != nil {
		t.Fatalf("with the STS endpoint: %v", err)
	}
	in, err := awsint.New(awsint.Config{Endpoints: map[string]string{"sqs": e.url}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = in.Invoke(context.Background(), tk)
	if fe := failure(t, err); fe.Name != "States.Runtime" || !strings.Contains(fe.Cause, "AWS_ENDPOINT_URL_STS") {
		t.Errorf("without STS: %s / %s", fe.Name, fe.Cause)
	}
}

// TestLocalService: with Config.Local, aws-sdk:sfn:* reaches the server's
// own Step Functions API in-process (no endpoint, no credentials), and
// its errors are named as AWS names them.
func TestLocalService(t *testing.T) {
	isolate(t)
	c := app.DefaultConfig()
	c.Store = "memory"
	c.AccountID = "111111111111"
	parts, err := app.Wire(context.Background(), c, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = parts.Close(context.Background()) }()
	in, err := awsint.New(awsint.Config{Local: map[string]http.Handler{"sfn": parts.API},
		// The default endpoint does not take sfn away from Local.
		Endpoints: map[string]string{"": "http://127.0.0.1:1"}})
	if err != nil {
		t.Fatal(err)
	}
	const sdk = "arn:aws:states:::aws-sdk:sfn:"
	created, err := in.Invoke(context.Background(), task(sdk+"createActivity", `{"Name":"work"}`))
	if err != nil {
		t.Fatal(err)
	}
	if arn := get(t, created, "ActivityArn"); arn != "arn:aws:states:us-east-1:111111111111:activity:work" {
		t.Errorf("createActivity: %s", value.String(created))
	}
	_, err = in.Invoke(context.Background(), task(sdk+"sendTaskFailure", `{"TaskToken":"NoSuchTaskToken"}`))
	fe := failure(t, err)
	if fe.Name != "Sfn.InvalidTokenException" || !strings.HasPrefix(fe.Cause, "Invalid Token: 'Invalid token' (Service: Sfn, Status Code: 400, Request ID: ") ||
		!strings.HasSuffix(fe.Cause, ") (SDK Attempt Count: 1)") {
		t.Errorf("got %s / %s", fe.Name, fe.Cause)
	}
}

// TestBrokenProfile: an AWS configuration that cannot be read (a profile
// that does not exist) does not stop New: tasks with an endpoint run with
// placeholder credentials, the others fail saying why.
func TestBrokenProfile(t *testing.T) {
	isolate(t)
	t.Setenv("AWS_PROFILE", "no-such-profile")
	in, err := awsint.New(awsint.Config{Endpoints: map[string]string{"sqs": "http://127.0.0.1:1"}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	_, err = in.Invoke(context.Background(), task("arn:aws:states:::aws-sdk:ssm:getParameter", `{"Name":"x"}`))
	if fe := failure(t, err); fe.Name != "States.Runtime" || !strings.Contains(fe.Cause, "no-such-profile") || !strings.Contains(fe.Cause, "AWS_ENDPOINT_URL_SSM") {
		t.Errorf("got %s / %s", fe.Name, fe.Cause)
	}
	if _, err := in.ClientConfig(context.Background(), "sqs", ""); err != nil {
		t.Errorf("ClientConfig with an endpoint: %v", err)
	}
}
