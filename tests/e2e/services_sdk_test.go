package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// newBucket creates a bucket of a unique name.
func (e *awsEnv) newBucket(t *testing.T, base string) string {
	t.Helper()
	name := unique(base)
	if _, err := e.s3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	return name
}

// testSDKIntegrations runs arn:aws:states:::aws-sdk:SERVICE:action tasks
// of every service the issue lists, each a round trip through the service
// (write, then read back what was written), with the API's PascalCase
// parameters and results.
func testSDKIntegrations(t *testing.T, e *awsEnv) {
	bucket := e.newBucket(t, "sdk")
	queue := e.newQueue(t, "sdk")
	table := e.newTable(t, "sdk")
	plaintext := base64.StdEncoding.EncodeToString([]byte("secret bytes"))
	for _, tc := range []struct {
		name   string
		states string // the States of a machine, run with {"bucket","queue","table","name","plaintext"}
		check  func(out map[string]any) bool
	}{{
		name: "S3",
		states: `"Put":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:s3:putObject","ResultPath":"$.put",
			"Parameters":{"Bucket.$":"$.bucket","Key.$":"$.name","Body":"hello, object"},"Next":"Get"},
			"Get":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:s3:getObject","ResultPath":"$.get",
			"Parameters":{"Bucket.$":"$.bucket","Key.$":"$.name"},"End":true}`,
		// AWS stores a Body given as a JSON string as its JSON text,
		// quotes included (the corpus's recorded ETag is the MD5 of
		// "\"text data\""), and getObject returns the object's text.
		check: func(out map[string]any) bool {
			return at(out, "get.Body") == `"hello, object"` && at(out, "get.ContentLength") == float64(15) && at(out, "put.ETag") == at(out, "get.ETag")
		},
	}, {
		name: "SQS",
		states: `"Send":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:sqs:sendMessage","ResultPath":"$.sent",
			"Parameters":{"QueueUrl.$":"$.queue","MessageBody":"via the SDK integration"},"Next":"Receive"},
			"Receive":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:sqs:receiveMessage","ResultPath":"$.received",
			"Parameters":{"QueueUrl.$":"$.queue","WaitTimeSeconds":5},"End":true}`,
		check: func(out map[string]any) bool {
			msgs, _ := at(out, "received.Messages").([]any)
			return len(msgs) == 1 && at(msgs[0], "Body") == "via the SDK integration" && at(msgs[0], "MessageId") == at(out, "sent.MessageId")
		},
	}, {
		name: "SNS",
		states: `"Create":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:sns:createTopic","ResultPath":"$.topic",
			"Parameters":{"Name.$":"$.name"},"Next":"Get"},
			"Get":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:sns:getTopicAttributes","ResultPath":"$.attrs",
			"Parameters":{"TopicArn.$":"$.topic.TopicArn"},"End":true}`,
		check: func(out map[string]any) bool {
			arn, _ := at(out, "topic.TopicArn").(string)
			return arn != "" && at(out, "attrs.Attributes.TopicArn") == arn
		},
	}, {
		name: "DynamoDB",
		states: `"Put":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:dynamodb:putItem","ResultPath":"$.put",
			"Parameters":{"TableName.$":"$.table","Item":{"id":{"S":"sdk"},"list":{"L":[{"N":"1"},{"BOOL":true},{"NULL":true}]}}},"Next":"Get"},
			"Get":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:dynamodb:getItem","ResultPath":"$.get",
			"Parameters":{"TableName.$":"$.table","Key":{"id":{"S":"sdk"}}},"End":true}`,
		check: func(out map[string]any) bool {
			return jsonOf(at(out, "get.Item.list")) == `{"L":[{"N":"1"},{"BOOL":true},{"NULL":true}]}` && jsonOf(out["put"]) == `{}`
		},
	}, {
		name: "EventBridge",
		states: `"Put":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:eventbridge:putEvents","ResultPath":"$.put",
			"Parameters":{"Entries":[{"Source":"stepwell.sdk","DetailType":"t","Detail":"{\"a\":1}"}]},"End":true}`,
		check: func(out map[string]any) bool {
			entries, _ := at(out, "put.Entries").([]any)
			return at(out, "put.FailedEntryCount") == float64(0) && len(entries) == 1 && at(entries[0], "EventId") != nil
		},
	}, {
		name: "SecretsManager",
		states: `"Create":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:secretsmanager:createSecret","ResultPath":"$.created",
			"Parameters":{"Name.$":"$.name","SecretString":"s3cr3t"},"Next":"Get"},
			"Get":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:secretsmanager:getSecretValue","ResultPath":"$.got",
			"Parameters":{"SecretId.$":"$.name"},"End":true}`,
		check: func(out map[string]any) bool {
			return at(out, "got.SecretString") == "s3cr3t" && at(out, "got.ARN") == at(out, "created.ARN")
		},
	}, {
		name: "SSM",
		states: `"Put":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:ssm:putParameter","ResultPath":"$.put",
			"Parameters":{"Name.$":"States.Format('/stepwell/{}', $.name)","Value":"v1","Type":"String"},"Next":"Get"},
			"Get":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:ssm:getParameter","ResultPath":"$.got",
			"Parameters":{"Name.$":"States.Format('/stepwell/{}', $.name)"},"End":true}`,
		check: func(out map[string]any) bool {
			return at(out, "got.Parameter.Value") == "v1" && at(out, "put.Version") == float64(1)
		},
	}, {
		name: "KMS",
		states: `"Key":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:kms:createKey","ResultPath":"$.key","Parameters":{},"Next":"Encrypt"},
			"Encrypt":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:kms:encrypt","ResultPath":"$.encrypted",
			"Parameters":{"KeyId.$":"$.key.KeyMetadata.KeyId","Plaintext.$":"$.plaintext"},"Next":"Decrypt"},
			"Decrypt":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:kms:decrypt","ResultPath":"$.decrypted",
			"Parameters":{"CiphertextBlob.$":"$.encrypted.CiphertextBlob"},"End":true}`,
		check: func(out map[string]any) bool {
			return at(out, "decrypted.Plaintext") == plaintext && at(out, "encrypted.CiphertextBlob") != plaintext
		},
	}, {
		// Step Functions is the server's own API (as AWS calls its own), even
		// though AWS_ENDPOINT_URL, every service's default, names another place.
		name: "StepFunctions",
		states: `"Describe":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:sfn:describeStateMachine","ResultPath":"$.described",
			"Parameters":{"StateMachineArn.$":"$$.StateMachine.Id"},"Next":"Self"},
			"Self":{"Type":"Pass","Parameters":{"arn.$":"$$.StateMachine.Id"},"ResultPath":"$.self","End":true}`,
		check: func(out map[string]any) bool {
			return at(out, "described.StateMachineArn") == at(out, "self.arn") && at(out, "described.Status") == "ACTIVE" &&
				strings.Contains(jsonOf(at(out, "described.Definition")), "describeStateMachine")
		},
	}, {
		name: "Lambda",
		states: `"List":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:lambda:listFunctions","ResultPath":"$.functions",
			"Parameters":{},"End":true}`,
		check: func(out map[string]any) bool {
			_, ok := at(out, "functions.Functions").([]any)
			return ok
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := e.execute(t, `{"StartAt":"`+firstState(tc.states)+`","States":{`+tc.states+`}}`, jsonText(t, map[string]any{
				"bucket": bucket, "queue": queue, "table": table, "name": unique("sdk-" + strings.ToLower(tc.name)), "plaintext": plaintext}))
			if out := succeeded(t, d); !tc.check(out) {
				t.Errorf("output %s", aws.ToString(d.Output))
			}
		})
	}
}

// firstState is the name of the first state in states (`"Name":{…`).
func firstState(states string) string {
	name, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(states), `"`), `"`)
	return name
}

// jsonOf is v as JSON text, "" if it has none.
func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// testErrorNames: what a missing queue, table, bucket, key, secret or
// parameter fails a task with, as Step Functions names it: the optimized
// integrations after the AWS SDK for Java 1 (SQS., DynamoDB.), the SDK
// integrations after the AWS SDK for Java 2 (Sqs., DynamoDb., S3.,
// <Error>Exception).
func testErrorNames(t *testing.T, e *awsEnv) {
	bucket := e.newBucket(t, "errors")
	missingQueue := e.moto + "/" + "111111111111/no-such-queue"
	for _, tc := range []struct {
		name, resource, params, error string
	}{
		{"optimized SQS, missing queue", "sqs:sendMessage", `{"QueueUrl":"` + missingQueue + `","MessageBody":"x"}`, "SQS.QueueDoesNotExistException"},
		{"optimized DynamoDB, missing table", "dynamodb:getItem", `{"TableName":"no-such-table","Key":{"id":{"S":"x"}}}`, "DynamoDB.ResourceNotFoundException"},
		{"SDK SQS, missing queue", "aws-sdk:sqs:getQueueUrl", `{"QueueName":"no-such-queue"}`, "Sqs.QueueDoesNotExistException"},
		{"SDK DynamoDB, missing table", "aws-sdk:dynamodb:getItem", `{"TableName":"no-such-table","Key":{"id":{"S":"x"}}}`, "DynamoDb.ResourceNotFoundException"},
		{"SDK S3, missing key", "aws-sdk:s3:getObject", `{"Bucket":"` + bucket + `","Key":"no/such/key"}`, "S3.NoSuchKeyException"},
		{"SDK S3, missing bucket", "aws-sdk:s3:getObject", `{"Bucket":"no-such-bucket-stepwell","Key":"k"}`, "S3.NoSuchBucketException"},
		{"SDK Secrets Manager, missing secret", "aws-sdk:secretsmanager:getSecretValue", `{"SecretId":"no-such-secret"}`, "SecretsManager.ResourceNotFoundException"},
		{"SDK Step Functions, unknown token", "aws-sdk:sfn:sendTaskFailure", `{"TaskToken":"no-such-token"}`, "Sfn.InvalidTokenException"},
		{"SDK SSM, missing parameter", "aws-sdk:ssm:getParameter", `{"Name":"/no/such/parameter"}`, "Ssm.ParameterNotFoundException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := e.execute(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::`+tc.resource+`",
				"Parameters":`+tc.params+`,"End":true}}}`, `{}`)
			if d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error) != tc.error || aws.ToString(d.Cause) == "" {
				t.Errorf("%s %q %q, want FAILED with %s and a cause", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause), tc.error)
			}
		})
	}
}

// testRetryCatch: a service's error is retried as its Retry says (the
// history shows each attempt) and then caught by its name.
func testRetryCatch(t *testing.T, e *awsEnv) {
	ctx := context.Background()
	def := `{"StartAt":"Put","States":{
		"Put":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:putItem",
			"Parameters":{"TableName":"no-such-table","Item":{"id":{"S":"x"}}},
			"Retry":[{"ErrorEquals":["DynamoDB.ResourceNotFoundException"],"IntervalSeconds":1,"MaxAttempts":2,"BackoffRate":1}],
			"Catch":[{"ErrorEquals":["States.TaskFailed"],"ResultPath":"$.error","Next":"Read"}],"End":true},
		"Read":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:s3:getObject",
			"Parameters":{"Bucket.$":"$.bucket","Key":"missing"},
			"Catch":[{"ErrorEquals":["S3.NoSuchKeyException"],"ResultPath":"$.readError","Next":"Done"}],"End":true},
		"Done":{"Type":"Pass","End":true}}}`
	d := e.execute(t, def, jsonText(t, map[string]any{"bucket": e.newBucket(t, "retry")}))
	out := succeeded(t, d)
	if at(out, "error.Error") != "DynamoDB.ResourceNotFoundException" || at(out, "readError.Error") != "S3.NoSuchKeyException" {
		t.Errorf("output %s: want both errors caught by name (States.TaskFailed matches a service error)", aws.ToString(d.Output))
	}
	h, err := e.sfn.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: d.ExecutionArn, MaxResults: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var failures []string
	for _, ev := range h.Events {
		if ev.Type == types.HistoryEventTypeTaskFailed {
			failures = append(failures, aws.ToString(ev.TaskFailedEventDetails.ResourceType)+":"+aws.ToString(ev.TaskFailedEventDetails.Resource)+" "+aws.ToString(ev.TaskFailedEventDetails.Error))
		}
	}
	want := "dynamodb:putItem DynamoDB.ResourceNotFoundException|dynamodb:putItem DynamoDB.ResourceNotFoundException|" +
		"dynamodb:putItem DynamoDB.ResourceNotFoundException|aws-sdk:s3:getObject S3.NoSuchKeyException"
	if got := strings.Join(failures, "|"); got != want {
		t.Errorf("TaskFailed events:\n%s\nwant (three attempts, then the read):\n%s", got, want)
	}
}

// testMockedServiceTask: with a mock configuration, a mocked service task
// is answered from it and never reaches the service, while the same
// machine started without its test case does.
func testMockedServiceTask(t *testing.T, e *awsEnv) {
	queue := e.newQueue(t, "mocked")
	arn := createMachine(t, e.sfn, "mocked-send", `{"StartAt":"Send","States":{"Send":{"Type":"Task",
		"Resource":"arn:aws:states:::sqs:sendMessage","Parameters":{"QueueUrl.$":"$.queue","MessageBody":"real"},"End":true}}}`,
		types.StateMachineTypeStandard)
	input := jsonText(t, map[string]any{"queue": queue})
	mocked := startAndWait(t, e.sfn, arn+"#Mocked", input)
	if out := succeeded(t, mocked); out["MessageId"] != "mocked-1" {
		t.Errorf("mocked execution's output %v, want the mocked response", out)
	}
	if n := e.queueLength(t, queue); n != "0" {
		t.Errorf("the mocked task sent %s messages to the queue, want none", n)
	}
	real := startAndWait(t, e.sfn, arn, input)
	succeeded(t, real)
	if body := aws.ToString(e.receive(t, queue).Body); body != "real" {
		t.Errorf("the unmocked task sent %q, want %q", body, "real")
	}
}

// testAssumeRole: a task's Credentials.RoleArn is assumed through STS
// before the call: with the emulator's STS the message is sent; on a
// server whose STS endpoint is a closed port the same task fails (and the
// task without Credentials still works there).
func testAssumeRole(t *testing.T, e *awsEnv) {
	queue := e.newQueue(t, "role")
	def := func(credentials string) string {
		return `{"StartAt":"Send","States":{"Send":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage",` + credentials +
			`"Parameters":{"QueueUrl.$":"$.queue","MessageBody":"as a role"},"End":true}}}`
	}
	const role = `"Credentials":{"RoleArn":"arn:aws:iam::111111111111:role/stepwell-task"},`
	input := jsonText(t, map[string]any{"queue": queue})
	succeeded(t, e.execute(t, def(role), input))
	if body := aws.ToString(e.receive(t, queue).Body); body != "as a role" {
		t.Fatalf("the queue got %q", body)
	}

	dir := t.TempDir()
	cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--store", "memory", "--account-id", "111111111111",
		"--aws-endpoint", "sqs="+e.moto, "--aws-endpoint", "sts=http://127.0.0.1:1")
	cmd.Env = noAWSEnv(dir)
	c := clientOf(startServe(t, cmd))
	for _, tc := range []struct {
		credentials string
		want        types.ExecutionStatus
	}{{"", types.ExecutionStatusSucceeded}, {role, types.ExecutionStatusFailed}} {
		arn := createMachine(t, c, unique("role"), def(tc.credentials), types.StateMachineTypeStandard)
		if d := startAndWait(t, c, arn, input); d.Status != tc.want {
			t.Errorf("with STS unreachable, Credentials %q: %s %s %s, want %s", tc.credentials, d.Status, aws.ToString(d.Error), aws.ToString(d.Cause), tc.want)
		}
	}
}

// TestAWSServices_NoEndpoint: with no endpoint and no credentials, a task
// that calls an AWS service fails with States.Runtime saying what to set,
// and nothing is sent anywhere: every proxy variable names a recorder of
// the requests that reach it (the AWS SDK's HTTP client follows them), and
// it records none.
func TestAWSServices_NoEndpoint(t *testing.T) {
	var contacted atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		contacted.Add(1)
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer proxy.Close()
	dir := t.TempDir()
	cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--store", "memory", "--account-id", "111111111111")
	for _, kv := range noAWSEnv(dir) {
		if name, _, _ := strings.Cut(kv, "="); !strings.HasSuffix(strings.ToUpper(name), "_PROXY") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "HTTPS_PROXY="+proxy.URL, "HTTP_PROXY="+proxy.URL)
	c := clientOf(startServe(t, cmd))
	arn := createMachine(t, c, unique("no-endpoint"), `{"StartAt":"Send","States":{"Send":{"Type":"Task",
		"Resource":"arn:aws:states:::sqs:sendMessage","Parameters":{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/111111111111/q","MessageBody":"x"},"End":true}}}`,
		types.StateMachineTypeStandard)
	d := startAndWait(t, c, arn, `{}`)
	cause := aws.ToString(d.Cause)
	if d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error) != "States.Runtime" ||
		!strings.Contains(cause, "AWS_ENDPOINT_URL") || !strings.Contains(cause, "--aws-endpoint") {
		t.Errorf("%s %s %q: want States.Runtime naming AWS_ENDPOINT_URL and --aws-endpoint", d.Status, aws.ToString(d.Error), cause)
	}
	if n := contacted.Load(); n != 0 {
		t.Errorf("the server sent %d requests out, want none", n)
	}
}
