package awsint_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/integrations"
	awsint "github.com/stepwell/stepwell/integrations/aws"
	"github.com/stepwell/stepwell/integrations/mock"
	"github.com/stepwell/stepwell/integrations/tasktoken"
	"github.com/stepwell/stepwell/store/memory"
)

// machine runs state machines with an integration the way the server
// does: the mock configuration (when given) in front of the task-token
// broker in front of the router.
type machine struct {
	eng    *engine.Engine
	broker *tasktoken.Broker
	mocks  *mock.Invoker
}

func newMachine(in *awsint.Integration, mocks *mock.Config) *machine {
	broker := tasktoken.New(memory.NewActivities())
	router := integrations.NewRouter().Add(in.Route())
	var inv tasktoken.Integration = broker.Wrap(router)
	m := &machine{broker: broker}
	if mocks != nil {
		m.mocks = mock.New(mocks, inv)
		inv = m.mocks
	}
	m.eng = engine.New(engine.Config{TimeScale: 0.01, Invoker: inv, Checker: inv, Resumer: inv, Region: "us-east-1", AccountID: "111111111111"})
	broker.Tokens = m.eng
	return m
}

// counter counts the history events of an execution by type.
type counter struct {
	mu sync.Mutex
	n  map[history.EventType]int
}

func (c *counter) Record(evs []history.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ev := range evs {
		c.n[ev.Type]++
	}
	return nil
}

func (c *counter) count(typ history.EventType) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[typ]
}

// run runs def with input to its end; testCase, when set, binds the
// execution to that mocked test case of the machine "m".
func (m *machine) run(t *testing.T, def, input, testCase string) engine.Result {
	t.Helper()
	res, _ := m.runCounted(t, def, input, testCase)
	return res
}

// runCounted is run, with the execution's events counted by type.
func (m *machine) runCounted(t *testing.T, def, input, testCase string) (engine.Result, *counter) {
	t.Helper()
	sm, err := asl.Load([]byte(def), asl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:states:us-east-1:111111111111:execution:m:" + strings.ReplaceAll(t.Name(), "/", "-")
	if testCase != "" {
		if err := m.mocks.Bind(arn, "m", testCase); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	events := &counter{n: make(map[history.EventType]int)}
	run := m.eng.Start(ctx, &engine.Execution{ARN: arn, Name: "x", Type: "STANDARD", Input: input, Machine: sm,
		StateMachineARN: "arn:aws:states:us-east-1:111111111111:stateMachine:m", StateMachineName: "m"}, events)
	select {
	case <-run.Done():
		return run.Result(), events
	case <-ctx.Done():
		t.Fatal("execution did not end")
	}
	return engine.Result{}, events
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// TestSQSWaitForTaskToken is the classic callback: the task sends its
// token in a message, a worker receives it from the queue and calls
// SendTaskSuccess (the broker's Succeed) with it; through the optimized
// integration and the AWS SDK one.
func TestSQSWaitForTaskToken(t *testing.T) {
	e := startEmulator(t)
	m := newMachine(e.in, nil)
	tests := []struct {
		name, resource, body string
	}{
		{"optimized", "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
			`"MessageBody":{"Message.$":"$.message","TaskToken.$":"$$.Task.Token"}`},
		{"aws-sdk", "arn:aws:states:::aws-sdk:sqs:sendMessage.waitForTaskToken",
			`"MessageBody.$":"States.Format('\\{\"Message\":\"{}\",\"TaskToken\":\"{}\"\\}', $.message, $$.Task.Token)"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := e.queue(t, unique("callbacks"))
			worker := make(chan error, 1)
			go func() { worker <- answer(e, m.broker, q) }()
			def := `{"StartAt":"Send","States":{"Send":{"Type":"Task","Resource":"` + tt.resource + `",
				"Parameters":{"QueueUrl":"` + q + `",` + tt.body + `},"ResultPath":"$.result","End":true}}}`
			res := m.run(t, def, `{"message":"HelloWorld"}`, "")
			if err := <-worker; err != nil {
				t.Fatalf("worker: %v", err)
			}
			if res.Status != engine.StatusSucceeded || str(res.Output) != `{"message":"HelloWorld","result":{"echo":"HelloWorld"}}` {
				t.Fatalf("%s %s %s %s", res.Status, str(res.Output), str(res.Error), str(res.Cause))
			}
		})
	}
}

// TestEventsWaitForTaskToken: events:putEvents.waitForTaskToken, the event
// routed by an EventBridge rule to a queue whose worker answers the token
// carried in the event's detail.
func TestEventsWaitForTaskToken(t *testing.T) {
	e := startEmulator(t)
	m := newMachine(e.in, nil)
	q := e.queue(t, unique("events"))
	arn := get(t, e.invoke(t, "arn:aws:states:::aws-sdk:sqs:getQueueAttributes", `{"QueueUrl":"`+q+`","AttributeNames":["QueueArn"]}`), "Attributes.QueueArn").(string)
	rule := unique("to-queue")
	e.invoke(t, "arn:aws:states:::aws-sdk:eventbridge:putRule", `{"Name":"`+rule+`","EventPattern":"{\"source\":[\"stepwell.test\"]}"}`)
	e.invoke(t, "arn:aws:states:::aws-sdk:eventbridge:putTargets", `{"Rule":"`+rule+`","Targets":[{"Id":"q","Arn":"`+arn+`"}]}`)
	worker := make(chan error, 1)
	go func() { worker <- answer(e, m.broker, q) }()
	def := `{"StartAt":"Put","States":{"Put":{"Type":"Task","Resource":"arn:aws:states:::events:putEvents.waitForTaskToken",
		"Parameters":{"Entries":[{"Source":"stepwell.test","DetailType":"callback","Detail":{"Message.$":"$.message","TaskToken.$":"$$.Task.Token"}}]},
		"End":true}}}`
	res := m.run(t, def, `{"message":"HelloWorld"}`, "")
	if err := <-worker; err != nil {
		t.Fatalf("worker: %v", err)
	}
	if res.Status != engine.StatusSucceeded || str(res.Output) != `{"echo":"HelloWorld"}` {
		t.Fatalf("%s %s %s %s", res.Status, str(res.Output), str(res.Error), str(res.Cause))
	}
}

// answer is the worker of a callback queue: it receives one message and
// calls SendTaskSuccess with its TaskToken, echoing its Message (of the
// message, or of the detail of the EventBridge event it carries).
func answer(e *emulator, broker *tasktoken.Broker, q string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		out, err := sqs.NewFromConfig(e.cfg).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q), WaitTimeSeconds: 2})
		if err != nil {
			return err
		}
		for _, msg := range out.Messages {
			type callback struct{ TaskToken, Message string }
			var body struct {
				callback
				Detail *callback `json:"detail"` // an EventBridge event
			}
			if err := json.Unmarshal([]byte(*msg.Body), &body); err != nil {
				return fmt.Errorf("message %s: %w", *msg.Body, err)
			}
			if body.Detail != nil {
				body.callback = *body.Detail
			}
			return broker.Succeed(body.TaskToken, `{"echo":"`+body.Message+`"}`)
		}
	}
	return ctx.Err()
}

// TestRetryCatch retries and then catches an AWS error by its name.
func TestRetryCatch(t *testing.T) {
	e := startEmulator(t)
	m := newMachine(e.in, nil)
	def := `{"StartAt":"Get","States":{"Get":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:getItem",
		"Parameters":{"TableName":"missing","Key":{"id":{"S":"1"}}},
		"Retry":[{"ErrorEquals":["DynamoDB.ResourceNotFoundException"],"MaxAttempts":1,"IntervalSeconds":1}],
		"Catch":[{"ErrorEquals":["DynamoDB.ResourceNotFoundException"],"Next":"Missing"}],"End":true},
		"Missing":{"Type":"Pass","End":true}}}`
	res, events := m.runCounted(t, def, `{}`, "")
	if res.Status != engine.StatusSucceeded || !strings.HasPrefix(str(res.Output), `{"Error":"DynamoDB.ResourceNotFoundException","Cause":"Requested resource not found (Service: AmazonDynamoDBv2;`) {
		t.Fatalf("%s %s", res.Status, str(res.Output))
	}
	if n := events.count(history.TaskFailed); n != 2 {
		t.Errorf("%d TaskFailed events, want 2 (the attempt and its retry)", n)
	}
}

// TestMocked: a mocked test case answers SQS, DynamoDB and aws-sdk tasks
// without reaching any service (the integration has neither endpoint nor
// credentials); an unmocked state still runs (and fails, saying what to
// configure).
func TestMocked(t *testing.T) {
	isolate(t)
	in, err := awsint.New(awsint.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := mock.Parse([]byte(`{
		"StateMachines":{"m":{"TestCases":{"Happy":{"Send":"Sent","Get":"Item","Read":"Object"},"Hybrid":{"Send":"Sent"}}}},
		"MockedResponses":{
			"Sent":{"0":{"Return":{"MD5OfMessageBody":"3bcb6e8e","MessageId":"3bcb6e8e-8b51"}}},
			"Item":{"0":{"Throw":{"Error":"DynamoDB.ResourceNotFoundException","Cause":"mocked"}}},
			"Object":{"0":{"Return":{"Body":"hello"}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	m := newMachine(in, cfg)
	def := `{"StartAt":"Send","States":{
		"Send":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage","Parameters":{"QueueUrl":"q","MessageBody":"x"},"ResultPath":"$.sent","Next":"Get"},
		"Get":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:getItem","Parameters":{"TableName":"t","Key":{}},
			"Catch":[{"ErrorEquals":["DynamoDB.ResourceNotFoundException"],"ResultPath":"$.error","Next":"Read"}],"Next":"Read"},
		"Read":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:s3:getObject","Parameters":{"Bucket":"b","Key":"k"},"ResultSelector":{"Body.$":"$.Body"},"ResultPath":"$.read","End":true}}}`
	res := m.run(t, def, `{}`, "Happy")
	want := `{"sent":{"MD5OfMessageBody":"3bcb6e8e","MessageId":"3bcb6e8e-8b51"},"error":{"Error":"DynamoDB.ResourceNotFoundException","Cause":"mocked"},"read":{"Body":"hello"}}`
	if res.Status != engine.StatusSucceeded || str(res.Output) != want {
		t.Fatalf("%s %s %s %s", res.Status, str(res.Output), str(res.Error), str(res.Cause))
	}
	res = m.run(t, def, `{}`, "Hybrid")
	if res.Status != engine.StatusFailed || str(res.Error) != "States.Runtime" || !strings.Contains(str(res.Cause), "AWS_ENDPOINT_URL_DYNAMODB") {
		t.Fatalf("unmocked state: %s %s %s", res.Status, str(res.Error), str(res.Cause))
	}
}
