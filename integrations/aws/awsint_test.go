package awsint_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
	awsint "github.com/stepwell/stepwell/integrations/aws"
	"github.com/stepwell/stepwell/internal/motoserver"
	"github.com/stepwell/stepwell/value"
)

// dummy credentials for the emulator.
var dummy = aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}

// emulator is one moto_server and an integration pointed at it.
type emulator struct {
	url string
	in  *awsint.Integration
	cfg aws.Config // for the tests' own SDK clients
}

// isolate keeps the AWS SDK away from the user's files, environment and
// the instance metadata service.
func isolate(t *testing.T) {
	t.Helper()
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		t.Setenv(k, "") // restored when the test ends
		os.Unsetenv(k)
	}
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// moto is the package's one moto_server (nil with motoErr), started by
// TestMain: the tests use names of their own.
var (
	moto    *motoserver.Server
	motoErr error
)

func TestMain(m *testing.M) {
	moto, motoErr = motoserver.Run()
	code := m.Run()
	if moto != nil {
		if code != 0 {
			fmt.Fprintf(os.Stderr, "moto_server log:\n%s", moto.Log())
		}
		moto.Stop()
	}
	os.Exit(code)
}

// seq makes the resource names of a test its own (go test -count=N reuses
// one moto_server).
var seq atomic.Int64

// unique returns base with a suffix no other call returns.
func unique(base string) string { return fmt.Sprintf("%s-%d", base, seq.Add(1)) }

func startEmulator(t *testing.T) *emulator {
	t.Helper()
	isolate(t)
	if moto == nil {
		motoserver.Unavailable(t, motoErr)
	}
	url := moto.URL
	in, err := awsint.New(awsint.Config{Endpoints: map[string]string{"": url}, Region: "us-east-1", Static: &dummy})
	if err != nil {
		t.Fatal(err)
	}
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return dummy, nil })}
	return &emulator{url: url, in: in, cfg: cfg}
}

// task returns a task of resource with the JSON parameters.
func task(resource, params string) *engine.Task {
	return &engine.Task{Resource: resource, Input: value.MustParse(params), Region: "us-east-1", AccountID: motoserver.AccountID}
}

// get returns the member at the dotted path of v.
func get(t *testing.T, v any, path string) any {
	t.Helper()
	for _, k := range strings.Split(path, ".") {
		o, ok := v.(*value.Object)
		if !ok {
			t.Fatalf("%s: %s is not an object in %s", path, k, value.String(v))
		}
		if v, ok = o.Get(k); !ok {
			t.Fatalf("%s: no %s in %s", path, k, value.String(o))
		}
	}
	return v
}

func (e *emulator) queue(t *testing.T, name string) string {
	t.Helper()
	out, err := sqs.NewFromConfig(e.cfg).CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return *out.QueueUrl
}

// failure returns err as a fault, failing the test if it is not one.
func failure(t *testing.T, err error) *fault.Error {
	t.Helper()
	fe, ok := fault.As(err)
	if !ok {
		t.Fatalf("error %v is not a fault", err)
	}
	return fe
}

func TestSQSSendMessage(t *testing.T) {
	e := startEmulator(t)
	q := e.queue(t, unique("orders"))
	ctx := context.Background()
	res, err := e.in.Invoke(ctx, task("arn:aws:states:::sqs:sendMessage",
		`{"QueueUrl":"`+q+`","MessageBody":{"order":1,"items":["a"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := get(t, res, "MessageId").(string); id == "" {
		t.Errorf("no MessageId in %s", value.String(res))
	}
	if got := get(t, res, "SdkHttpMetadata.HttpStatusCode"); got != int64(200) {
		t.Errorf("HttpStatusCode = %v", got)
	}
	if got := get(t, res, "SdkHttpMetadata.HttpHeaders.Content-Type"); got != "application/x-amz-json-1.0" {
		t.Errorf("Content-Type = %v", got)
	}
	// AWS's body {"MD5OfMessageBody":"…","MessageId":"…"} is 106 bytes.
	if got := get(t, res, "SdkHttpMetadata.HttpHeaders.Content-Length"); got != "106" {
		t.Errorf("Content-Length = %v, want AWS's 106", got)
	}
	if get(t, res, "SdkResponseMetadata.RequestId") != get(t, res, "SdkHttpMetadata.HttpHeaders.x-amzn-RequestId") {
		t.Errorf("request ids differ: %s", value.String(res))
	}
	msgs, err := sqs.NewFromConfig(e.cfg).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q), WaitTimeSeconds: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs.Messages) != 1 || *msgs.Messages[0].Body != `{"order":1,"items":["a"]}` {
		t.Fatalf("received %+v, want the body as JSON text", msgs.Messages)
	}
}

func TestSQSErrors(t *testing.T) {
	e := startEmulator(t)
	q := e.queue(t, unique("errors"))
	tests := []struct {
		name, resource, params, error, cause string
	}{
		// AWS answers a SendMessage without MessageBody with
		// "SQS.AmazonSQSException: The request must contain the parameter
		// MessageBody. (Service: AmazonSQS; Status Code: 400; Error Code:
		// MissingParameter; …)"; moto 5.2.1 fails with an internal error
		// (HTTP 500, an HTML page), which the SDK cannot decode. The
		// request reaches the service as AWS's SDK sends it: not rejected
		// by a client-side check.
		{"missing body (moto differs)", "arn:aws:states:::sqs:sendMessage", `{"QueueUrl":"` + q + `","MessageBody":null}`,
			"SQS.SdkClientException", "StatusCode: 500"},
		{"missing queue", "arn:aws:states:::sqs:sendMessage", `{"QueueUrl":"` + e.url + `/111111111111/nope","MessageBody":"x"}`,
			"SQS.QueueDoesNotExistException", "(Service: AmazonSQS; Status Code: 400; Error Code: AWS.SimpleQueueService.NonExistentQueue; Request ID: "},
		{"sdk missing queue", "arn:aws:states:::aws-sdk:sqs:sendMessage", `{"QueueUrl":"` + e.url + `/111111111111/nope","MessageBody":"x"}`,
			"Sqs.QueueDoesNotExistException", "(Service: Sqs, Status Code: 400, Request ID: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.in.Invoke(context.Background(), task(tt.resource, tt.params))
			fe := failure(t, err)
			if fe.Name != tt.error || !strings.Contains(fe.Cause, tt.cause) {
				t.Errorf("got %s / %s, want %s / …%s…", fe.Name, fe.Cause, tt.error, tt.cause)
			}
		})
	}
}
