package e2e

// Tasks that call AWS services, end to end: a real `stepwell serve` whose
// AWS endpoints are a real moto_server (internal/motoserver starts it; the
// tests fail under CI without one and are skipped elsewhere), driven with
// the Step Functions client, while the tests use the services' own SDK
// clients against the same emulator to set things up and to look at what
// the tasks did. No request goes to AWS: every service has an endpoint,
// and the server has no credentials (it signs emulator requests with
// placeholders).

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/stepwell/stepwell/internal/motoserver"
)

// awsEnv is a server wired to one moto_server, and clients of both.
type awsEnv struct {
	moto string      // moto_server's base URL
	sfn  *sfn.Client // the server under test
	sqs  *sqs.Client // the emulator's services
	sns  *sns.Client
	ddb  *dynamodb.Client
	s3   *s3.Client
	eb   *eventbridge.Client
}

// servicesMock is the mock configuration of the services server: the
// machine mocked-send's test case "Mocked" answers its Send task.
const servicesMock = `{
  "StateMachines": {"mocked-send": {"TestCases": {"Mocked": {"Send": "SendOK"}}}},
  "MockedResponses": {"SendOK": {"0": {"Return": {"MessageId": "mocked-1"}}}}
}`

// startServicesServer starts moto_server and a `stepwell serve` whose
// AWS services are that emulator, both stopped when t ends. Each way of
// naming an endpoint is used for some service, so that each is seen to
// work: the SDKs' AWS_ENDPOINT_URL_<SERVICE>, Step Functions Local's
// SQS_ENDPOINT, and --aws-endpoint flags. AWS_ENDPOINT_URL, the default of
// every service, points at a closed port: a service whose own setting
// were lost would fail, not quietly reach the emulator anyway.
func startServicesServer(t *testing.T) *awsEnv {
	t.Helper()
	moto := motoserver.Start(t)
	dir := t.TempDir()
	mockPath := filepath.Join(dir, "mock.json")
	if err := os.WriteFile(mockPath, []byte(servicesMock), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"),
		"--time-scale", "0.01", "--account-id", motoserver.AccountID, "--mock-config", mockPath,
		"--aws-endpoint", "dynamodb="+moto, "--aws-endpoint", "s3="+moto, "--aws-endpoint", "ssm="+moto,
		"--aws-endpoint", "kms="+moto, "--aws-endpoint", "sts="+moto, "--aws-endpoint", "lambda="+moto)
	cmd.Env = append(noAWSEnv(dir),
		"AWS_ENDPOINT_URL=http://127.0.0.1:1",
		"SQS_ENDPOINT="+moto,
		"AWS_ENDPOINT_URL_SNS="+moto,
		"AWS_ENDPOINT_URL_EVENTBRIDGE="+moto,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER="+moto,
	)
	url := startServe(t, cmd)
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
	return &awsEnv{
		moto: moto,
		sfn:  clientOf(url),
		sqs:  sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(moto) }),
		sns:  sns.NewFromConfig(cfg, func(o *sns.Options) { o.BaseEndpoint = aws.String(moto) }),
		ddb:  dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(moto) }),
		s3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.BaseEndpoint, o.UsePathStyle = aws.String(moto), true
		}),
		eb: eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(moto) }),
	}
}

// noAWSEnv is the test's environment without anything that configures
// AWS (credentials, profiles, endpoints, region), with no shared config
// files and no instance metadata: the server can only use what a test
// gives it. dir holds the (missing) shared files.
func noAWSEnv(dir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "AWS_") || strings.HasSuffix(name, "_ENDPOINT") || strings.HasPrefix(name, "STEPWELL_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"AWS_CONFIG_FILE="+filepath.Join(dir, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "no-credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_REGION=us-east-1",
	)
}

// startServe starts cmd, a `stepwell serve` listening on port 0, and
// returns its URL once it listens; it is stopped when t ends (its log is
// shown if t failed).
func startServe(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var log strings.Builder
	url := make(chan string, 1)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			log.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if u, ok := strings.CutPrefix(sc.Text(), "stepwell: listening on "); ok {
				u, _, _ = strings.Cut(u, " ")
				select {
				case url <- u:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		<-drained
		_ = cmd.Wait()
		if t.Failed() {
			mu.Lock()
			t.Logf("stepwell serve's log:\n%s", log.String())
			mu.Unlock()
		}
	})
	select {
	case u := <-url:
		return u
	case <-drained:
		t.Fatal("stepwell serve exited before listening")
	case <-time.After(30 * time.Second):
		t.Fatal("stepwell serve did not print its address within 30 s")
	}
	return ""
}

// TestAWSServices runs Task states that call AWS services against one
// server and one emulator: the optimized integrations, the SDK
// integrations of every listed service, callbacks through a queue, SNS to
// SQS fan-out, error names and Retry/Catch on them.
func TestAWSServices(t *testing.T) {
	e := startServicesServer(t)
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, e *awsEnv)
	}{
		{"SQSSendMessage", testSQSSendMessage},
		{"SQSCallback", testSQSCallback},
		{"SNSFanOut", testSNSFanOut},
		{"NotificationCallbacks", testNotificationCallbacks},
		{"DynamoDB", testDynamoDB},
		{"EventBridge", testEventBridge},
		{"SDKIntegrations", testSDKIntegrations},
		{"ErrorNames", testErrorNames},
		{"RetryCatch", testRetryCatch},
		{"Mocked", testMockedServiceTask},
		{"AssumeRole", testAssumeRole},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, e)
		})
	}
}

// execute creates a Standard machine of def, runs it with input and
// returns its description once it ended.
func (e *awsEnv) execute(t *testing.T, def, input string) *sfn.DescribeExecutionOutput {
	t.Helper()
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, t.Name())
	arn := createMachine(t, e.sfn, unique(name[len(name)-min(len(name), 70):]), def, types.StateMachineTypeStandard)
	return startAndWait(t, e.sfn, arn, input)
}

// succeeded checks that d succeeded and returns its output.
func succeeded(t *testing.T, d *sfn.DescribeExecutionOutput) map[string]any {
	t.Helper()
	if d.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("execution %s: %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	return decodeJSON(t, d.Output)
}

// jsonText is v as JSON text.
func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// at returns the value at a dotted path in v (maps only).
func at(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// newQueue creates a queue of a unique name and returns its URL.
func (e *awsEnv) newQueue(t *testing.T, base string) string {
	t.Helper()
	out, err := e.sqs.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(unique(base))})
	if err != nil {
		t.Fatalf("CreateQueue: %v", err)
	}
	return *out.QueueUrl
}

// receive long-polls queue until it has a message, which it deletes and
// returns (the long poll is the emulator's event: no sleeping here).
func (e *awsEnv) receive(t *testing.T, queue string) sqstypes.Message {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		out, err := e.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(queue), WaitTimeSeconds: 2, MaxNumberOfMessages: 1,
			MessageAttributeNames: []string{"All"},
		})
		if err != nil {
			t.Fatalf("ReceiveMessage: %v", err)
		}
		if len(out.Messages) == 1 {
			m := out.Messages[0]
			if _, err := e.sqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(queue), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatalf("DeleteMessage: %v", err)
			}
			return m
		}
	}
	t.Fatalf("no message on %s after 30 s", queue)
	return sqstypes.Message{}
}

// queueLength is the number of messages waiting on queue.
func (e *awsEnv) queueLength(t *testing.T, queue string) string {
	t.Helper()
	out, err := e.sqs.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(queue), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages},
	})
	if err != nil {
		t.Fatalf("GetQueueAttributes: %v", err)
	}
	return out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)]
}

// testSQSSendMessage: sqs:sendMessage sends a body given as JSON as its
// JSON text, and answers as Step Functions does (MessageId, the body's
// MD5, the HTTP metadata of the call).
func testSQSSendMessage(t *testing.T, e *awsEnv) {
	queue := e.newQueue(t, "send")
	d := e.execute(t, `{"StartAt":"Send","States":{"Send":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage",
		"Parameters":{"QueueUrl.$":"$.queue","MessageBody":{"order.$":"$.order","note":"ünïcode"}},"End":true}}}`,
		jsonText(t, map[string]any{"queue": queue, "order": 42}))
	out := succeeded(t, d)
	m := e.receive(t, queue)
	const body = `{"order":42,"note":"ünïcode"}`
	if aws.ToString(m.Body) != body {
		t.Errorf("message body %q, want %q", aws.ToString(m.Body), body)
	}
	sum := md5.Sum([]byte(body))
	if out["MD5OfMessageBody"] != hex.EncodeToString(sum[:]) || out["MessageId"] != aws.ToString(m.MessageId) {
		t.Errorf("result %v: want MessageId %s and MD5OfMessageBody of the body", out, aws.ToString(m.MessageId))
	}
	if at(out, "SdkHttpMetadata.HttpStatusCode") != float64(200) || at(out, "SdkResponseMetadata.RequestId") == nil {
		t.Errorf("result %v has no SdkHttpMetadata/SdkResponseMetadata", out)
	}
}

// testSQSCallback: the classic callback. sqs:sendMessage.waitForTaskToken
// puts $$.Task.Token in the message; a worker reads the queue and answers
// with SendTaskSuccess (the task's result) or SendTaskFailure (caught).
func testSQSCallback(t *testing.T, e *awsEnv) {
	queue := e.newQueue(t, "callback")
	def := `{"StartAt":"Ask","States":{"Ask":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
		"Parameters":{"QueueUrl.$":"$.queue","MessageBody":{"job.$":"$.job","token.$":"$$.Task.Token"}},
		"TimeoutSeconds":3000,"ResultPath":"$.answer",
		"Catch":[{"ErrorEquals":["Worker.Refused"],"ResultPath":"$.refused","Next":"Refused"}],"End":true},
		"Refused":{"Type":"Pass","End":true}}}`
	sm := createMachine(t, e.sfn, unique("callback"), def, types.StateMachineTypeStandard)
	ctx := context.Background()
	for _, job := range []string{"accept", "refuse"} {
		start, err := e.sfn.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm),
			Input: aws.String(jsonText(t, map[string]any{"queue": queue, "job": job}))})
		if err != nil {
			t.Fatal(err)
		}
		// The worker.
		var msg struct{ Job, Token string }
		if err := json.Unmarshal([]byte(aws.ToString(e.receive(t, queue).Body)), &msg); err != nil || msg.Token == "" {
			t.Fatalf("message %+v (%v): want the job and the task token", msg, err)
		}
		if msg.Job == "accept" {
			_, err = e.sfn.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(msg.Token), Output: aws.String(`{"done":"accept"}`)})
		} else {
			_, err = e.sfn.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(msg.Token), Error: aws.String("Worker.Refused"), Cause: aws.String("not today")})
		}
		if err != nil {
			t.Fatalf("answering %s: %v", job, err)
		}
		out := succeeded(t, waitDone(t, e.sfn, *start.ExecutionArn))
		switch job {
		case "accept":
			if at(out, "answer.done") != "accept" {
				t.Errorf("accepted job's output %v, want the worker's answer in $.answer", out)
			}
		case "refuse":
			if at(out, "refused.Error") != "Worker.Refused" || at(out, "refused.Cause") != "not today" {
				t.Errorf("refused job's output %v, want the worker's failure caught in $.refused", out)
			}
		}
	}
}

// testNotificationCallbacks: sns:publish.waitForTaskToken and
// events:putEvents.waitForTaskToken reach a queue (subscribed to the
// topic, targeted by a rule) with the task token in the message; a worker
// reading the queue completes the task.
func testNotificationCallbacks(t *testing.T, e *awsEnv) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		resource string
		params   string
		connect  func(t *testing.T, queueARN string) any // what the state's input names
		token    func(body string) (string, error)       // the token, from the message
	}{{
		name: "SNS", resource: "sns:publish.waitForTaskToken",
		params: `{"TopicArn.$":"$.target","Message":{"token.$":"$$.Task.Token"}}`,
		connect: func(t *testing.T, queueARN string) any {
			topic, err := e.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(unique("callback"))})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.sns.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(queueARN)}); err != nil {
				t.Fatal(err)
			}
			return *topic.TopicArn
		},
		token: func(body string) (string, error) {
			var envelope struct{ Message string }
			var msg struct{ Token string }
			if err := json.Unmarshal([]byte(body), &envelope); err != nil {
				return "", err
			}
			err := json.Unmarshal([]byte(envelope.Message), &msg)
			return msg.Token, err
		},
	}, {
		name: "EventBridge", resource: "events:putEvents.waitForTaskToken",
		params: `{"Entries":[{"Source.$":"$.target","DetailType":"Approve","Detail":{"token.$":"$$.Task.Token"}}]}`,
		connect: func(t *testing.T, queueARN string) any {
			source, rule := unique("stepwell.callback"), unique("callback")
			if _, err := e.eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(rule),
				EventPattern: aws.String(jsonText(t, map[string]any{"source": []string{source}}))}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(rule),
				Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: aws.String(queueARN)}}}); err != nil {
				t.Fatal(err)
			}
			return source
		},
		token: func(body string) (string, error) {
			var event struct {
				Detail struct{ Token string } `json:"detail"`
			}
			err := json.Unmarshal([]byte(body), &event)
			return event.Detail.Token, err
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			queue := e.newQueue(t, "notify")
			attrs, err := e.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queue),
				AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
			if err != nil {
				t.Fatal(err)
			}
			target := tc.connect(t, attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)])
			sm := createMachine(t, e.sfn, unique("notify-callback"), `{"StartAt":"Ask","States":{"Ask":{"Type":"Task",
				"Resource":"arn:aws:states:::`+tc.resource+`","Parameters":`+tc.params+`,"TimeoutSeconds":3000,"End":true}}}`,
				types.StateMachineTypeStandard)
			start, err := e.sfn.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm),
				Input: aws.String(jsonText(t, map[string]any{"target": target}))})
			if err != nil {
				t.Fatal(err)
			}
			body := aws.ToString(e.receive(t, queue).Body)
			token, err := tc.token(body)
			if err != nil || token == "" {
				t.Fatalf("no task token in %s (%v)", body, err)
			}
			if _, err := e.sfn.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{"approved":true}`)}); err != nil {
				t.Fatal(err)
			}
			if out := succeeded(t, waitDone(t, e.sfn, *start.ExecutionArn)); out["approved"] != true {
				t.Errorf("output %v, want the worker's answer", out)
			}
		})
	}
}

// testSNSFanOut: sns:publish reaches every queue subscribed to the topic,
// with the message (JSON given as its text) and its attributes.
func testSNSFanOut(t *testing.T, e *awsEnv) {
	ctx := context.Background()
	topic, err := e.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(unique("fanout"))})
	if err != nil {
		t.Fatal(err)
	}
	var queues []string
	for _, name := range []string{"fan-a", "fan-b"} {
		q := e.newQueue(t, name)
		attrs, err := e.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(q),
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.sns.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
			Endpoint: aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)])}); err != nil {
			t.Fatal(err)
		}
		queues = append(queues, q)
	}
	d := e.execute(t, `{"StartAt":"Publish","States":{"Publish":{"Type":"Task","Resource":"arn:aws:states:::sns:publish",
		"Parameters":{"TopicArn.$":"$.topic","Message":{"order.$":"$.order"},"Subject":"orders",
		"MessageAttributes":{"kind":{"DataType":"String","StringValue":"new-order"}}},"End":true}}}`,
		jsonText(t, map[string]any{"topic": *topic.TopicArn, "order": 7}))
	out := succeeded(t, d)
	for _, q := range queues {
		var envelope struct {
			Type, MessageId, TopicArn, Message, Subject string
			MessageAttributes                           map[string]struct{ Type, Value string }
		}
		body := aws.ToString(e.receive(t, q).Body)
		if err := json.Unmarshal([]byte(body), &envelope); err != nil {
			t.Fatalf("%s got %q: %v", q, body, err)
		}
		if envelope.Message != `{"order":7}` || envelope.TopicArn != *topic.TopicArn || envelope.MessageId != out["MessageId"] ||
			envelope.Subject != "orders" || envelope.MessageAttributes["kind"].Value != "new-order" {
			t.Errorf("%s got %s; want the published message %v with its subject and attribute", q, body, out)
		}
	}
}

// testDynamoDB: the optimized DynamoDB integrations in a chain: putItem,
// updateItem (UPDATED_NEW), getItem, deleteItem, getItem of nothing.
func testDynamoDB(t *testing.T, e *awsEnv) {
	table := e.newTable(t, "items")
	d := e.execute(t, `{"StartAt":"Put","States":{
		"Put":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:putItem","ResultPath":"$.put",
			"Parameters":{"TableName.$":"$.table","Item":{"id":{"S":"k1"},"n":{"N":"1"},"tags":{"SS":["a","b"]}}},"Next":"Update"},
		"Update":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:updateItem","ResultPath":"$.update",
			"Parameters":{"TableName.$":"$.table","Key":{"id":{"S":"k1"}},"UpdateExpression":"SET n = n + :one",
				"ExpressionAttributeValues":{":one":{"N":"1"}},"ReturnValues":"UPDATED_NEW"},"Next":"Get"},
		"Get":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:getItem","ResultPath":"$.get",
			"Parameters":{"TableName.$":"$.table","Key":{"id":{"S":"k1"}}},"Next":"Delete"},
		"Delete":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:deleteItem","ResultPath":"$.delete",
			"Parameters":{"TableName.$":"$.table","Key":{"id":{"S":"k1"}}},"Next":"GetNothing"},
		"GetNothing":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:getItem","ResultPath":"$.gone",
			"Parameters":{"TableName.$":"$.table","Key":{"id":{"S":"k1"}}},"End":true}}}`,
		jsonText(t, map[string]any{"table": table}))
	out := succeeded(t, d)
	if at(out, "update.Attributes.n.N") != "2" {
		t.Errorf("updateItem result %v, want Attributes.n = 2", out["update"])
	}
	if at(out, "get.Item.n.N") != "2" || at(out, "get.Item.id.S") != "k1" || fmt.Sprint(at(out, "get.Item.tags.SS")) != "[a b]" {
		t.Errorf("getItem result %v, want the updated item", out["get"])
	}
	if at(out, "gone.Item") != nil || at(out, "gone.SdkHttpMetadata.HttpStatusCode") != float64(200) {
		t.Errorf("getItem of a deleted item %v, want no Item and the HTTP metadata", out["gone"])
	}
	items, err := e.ddb.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil || items.Count != 0 {
		t.Errorf("table after deleteItem: %v items (%v), want none", items.Count, err)
	}
}

// newTable creates a table with the string hash key "id".
func (e *awsEnv) newTable(t *testing.T, base string) string {
	t.Helper()
	name := unique(base)
	_, err := e.ddb.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	return name
}

// testEventBridge: events:putEvents puts the event on the bus (a rule
// delivers it to a queue, detail given as JSON sent as its text), and an
// entry the bus refuses fails the task with EventBridge.FailedEntry.
func testEventBridge(t *testing.T, e *awsEnv) {
	ctx := context.Background()
	queue := e.newQueue(t, "events")
	attrs, err := e.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queue),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	source := unique("stepwell.test")
	rule := unique("to-queue")
	if _, err := e.eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(rule),
		EventPattern: aws.String(jsonText(t, map[string]any{"source": []string{source}}))}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(rule),
		Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)])}}}); err != nil {
		t.Fatal(err)
	}
	d := e.execute(t, `{"StartAt":"Put","States":{"Put":{"Type":"Task","Resource":"arn:aws:states:::events:putEvents",
		"Parameters":{"Entries":[{"Source.$":"$.source","DetailType":"OrderPlaced","Detail":{"order.$":"$.order"}}]},"End":true}}}`,
		jsonText(t, map[string]any{"source": source, "order": 9}))
	out := succeeded(t, d)
	if at(out, "FailedEntryCount") != float64(0) || len(out["Entries"].([]any)) != 1 {
		t.Errorf("putEvents result %v, want one entry and no failure", out)
	}
	var event struct {
		Source string         `json:"source"`
		Detail map[string]any `json:"detail"`
	}
	body := aws.ToString(e.receive(t, queue).Body)
	if err := json.Unmarshal([]byte(body), &event); err != nil || event.Source != source || at(event.Detail, "order") != float64(9) {
		t.Errorf("the rule delivered %s (%v), want the event with detail {\"order\":9}", body, err)
	}

	// An entry without a source is refused by the bus: the task fails.
	d = e.execute(t, `{"StartAt":"Put","States":{"Put":{"Type":"Task","Resource":"arn:aws:states:::events:putEvents",
		"Parameters":{"Entries":[{"DetailType":"OrderPlaced","Detail":{}}]},"End":true}}}`, `{}`)
	if d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error) != "EventBridge.FailedEntry" ||
		!strings.Contains(aws.ToString(d.Cause), `"FailedEntryCount":1`) {
		t.Errorf("putEvents of an entry without Source: %s %s %s, want EventBridge.FailedEntry with the response as cause",
			d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
}
