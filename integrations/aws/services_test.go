package awsint_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/stepwell/stepwell/value"
)

func (e *emulator) table(t *testing.T, name string) {
	t.Helper()
	_, err := dynamodb.NewFromConfig(e.cfg).CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (e *emulator) topic(t *testing.T, name string) string {
	t.Helper()
	out, err := sns.NewFromConfig(e.cfg).CreateTopic(context.Background(), &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return *out.TopicArn
}

func (e *emulator) bucket(t *testing.T, name string) {
	t.Helper()
	_, err := s3.NewFromConfig(e.cfg, func(o *s3.Options) { o.UsePathStyle = true }).
		CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
}

// invoke runs one task and returns its result as JSON text.
func (e *emulator) invoke(t *testing.T, resource, params string) any {
	t.Helper()
	res, err := e.in.Invoke(context.Background(), task(resource, params))
	if err != nil {
		t.Fatalf("%s %s: %v", resource, params, err)
	}
	return res
}

func TestDynamoDBOptimized(t *testing.T) {
	e := startEmulator(t)
	tbl := unique("items")
	e.table(t, tbl)
	const res = "arn:aws:states:::dynamodb:"
	put := e.invoke(t, res+"putItem", `{"TableName":"`+tbl+`","Item":{"id":{"S":"id1"},"data":{"S":"HelloWorld"},"n":{"N":"5"},"l":{"L":[{"BOOL":true},{"NULL":true}]}}}`)
	if o := put.(*value.Object); o.Has("Attributes") || !o.Has("SdkHttpMetadata") {
		t.Errorf("putItem: %s", value.String(put))
	}
	// AWS's body "{}" is 2 bytes.
	if got := get(t, put, "SdkHttpMetadata.HttpHeaders.Content-Length"); got != "2" {
		t.Errorf("putItem Content-Length = %v, want 2", got)
	}
	// AWS's headers: Server "Server", the CRC32 of "{}".
	if got := get(t, put, "SdkHttpMetadata.HttpHeaders.Server"); got != "Server" {
		t.Errorf("putItem Server = %v", got)
	}
	if got := get(t, put, "SdkHttpMetadata.HttpHeaders.x-amz-crc32"); got != "2745614147" {
		t.Errorf("putItem x-amz-crc32 = %v, want 2745614147", got)
	}
	upd := e.invoke(t, res+"updateItem", `{"TableName":"`+tbl+`","Key":{"id":{"S":"id1"}},"UpdateExpression":"set S=:r","ExpressionAttributeValues":{":r":{"S":"HelloWorldUpdated"}},"ReturnValues":"UPDATED_NEW"}`)
	if got := value.String(get(t, upd, "Attributes")); got != `{"S":{"S":"HelloWorldUpdated"}}` {
		t.Errorf("updateItem Attributes = %s", got)
	}
	// AWS's body {"Attributes":{"S":{"S":"HelloWorldUpdated"}}} is 46 bytes.
	// moto 5.2.1 also answers ConsumedCapacity, which DynamoDB returns only
	// when ReturnConsumedCapacity asks for it: the result leaves it out.
	if got := get(t, upd, "SdkHttpMetadata.HttpHeaders.Content-Length"); got != "46" {
		t.Errorf("updateItem Content-Length = %v, want 46: %s", got, value.String(upd))
	}
	got := e.invoke(t, res+"getItem", `{"TableName":"`+tbl+`","Key":{"id":{"S":"id1"}}}`)
	item := get(t, got, "Item")
	for path, want := range map[string]string{"id": `{"S":"id1"}`, "n": `{"N":"5"}`, "l": `{"L":[{"BOOL":true},{"NULL":true}]}`, "S": `{"S":"HelloWorldUpdated"}`} {
		if s := value.String(get(t, item, path)); s != want {
			t.Errorf("getItem Item.%s = %s, want %s", path, s, want)
		}
	}
	e.invoke(t, res+"deleteItem", `{"TableName":"`+tbl+`","Key":{"id":{"S":"id1"}}}`)
	if o := e.invoke(t, res+"getItem", `{"TableName":"`+tbl+`","Key":{"id":{"S":"id1"}}}`).(*value.Object); o.Has("Item") {
		t.Errorf("item still there after deleteItem: %s", value.String(o))
	}
}

func TestServiceErrors(t *testing.T) {
	e := startEmulator(t)
	bucket, tbl := unique("bucket"), unique("table")
	e.bucket(t, bucket)
	e.table(t, tbl)
	e.invoke(t, "arn:aws:states:::dynamodb:putItem", `{"TableName":"`+tbl+`","Item":{"id":{"S":"taken"}}}`)
	topic := e.topic(t, unique("gone"))
	if _, err := sns.NewFromConfig(e.cfg).DeleteTopic(context.Background(), &sns.DeleteTopicInput{TopicArn: aws.String(topic)}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, resource, params, error, cause string
	}{
		{"dynamodb missing table", "arn:aws:states:::dynamodb:putItem", `{"TableName":"nope","Item":{"id":{"S":"1"}}}`,
			"DynamoDB.ResourceNotFoundException", "Requested resource not found (Service: AmazonDynamoDBv2; Status Code: 400; Error Code: ResourceNotFoundException; Request ID: "},
		{"sdk dynamodb missing table", "arn:aws:states:::aws-sdk:dynamodb:putItem", `{"TableName":"nope","Item":{"id":{"S":"1"}}}`,
			"DynamoDb.ResourceNotFoundException", "Requested resource not found (Service: DynamoDb, Status Code: 400, Request ID: "},
		{"dynamodb condition", "arn:aws:states:::dynamodb:putItem", `{"TableName":"` + tbl + `","Item":{"id":{"S":"taken"}},"ConditionExpression":"attribute_not_exists(id)"}`,
			"DynamoDB.ConditionalCheckFailedException", "(Service: AmazonDynamoDBv2; Status Code: 400; Error Code: ConditionalCheckFailedException; Request ID: "},
		{"sdk dynamodb condition", "arn:aws:states:::aws-sdk:dynamodb:putItem", `{"TableName":"` + tbl + `","Item":{"id":{"S":"taken"}},"ConditionExpression":"attribute_not_exists(id)"}`,
			"DynamoDb.ConditionalCheckFailedException", "(Service: DynamoDb, Status Code: 400, Request ID: "},
		{"s3 missing key", "arn:aws:states:::aws-sdk:s3:getObject", `{"Bucket":"` + bucket + `","Key":"no_such_key.json"}`,
			"S3.NoSuchKeyException", "The specified key does not exist. (Service: S3, Status Code: 404, Request ID: "},
		{"s3 missing bucket", "arn:aws:states:::aws-sdk:s3:getObject", `{"Bucket":"no-bucket","Key":"k"}`,
			"S3.NoSuchBucketException", "(Service: S3, Status Code: 404, Request ID: "},
		// AWS's message is "Topic does not exist"; moto 5.2.1 says
		// "Endpoint does not exist". The name and the rest are AWS's.
		{"sns missing topic (moto's message differs)", "arn:aws:states:::sns:publish", `{"TopicArn":"` + topic + `","Message":"x"}`,
			"SNS.NotFoundException", " does not exist (Service: AmazonSNS; Status Code: 404; Error Code: NotFound; Request ID: "},
		// AWS answers with HTTP 400, moto 5.2.1 with 404.
		{"secretsmanager missing secret (moto's status differs)", "arn:aws:states:::aws-sdk:secretsmanager:getSecretValue", `{"SecretId":"nope"}`,
			"SecretsManager.ResourceNotFoundException", "Secrets Manager can't find the specified secret. (Service: SecretsManager, Status Code: 404, Request ID: "},
		{"ssm missing parameter", "arn:aws:states:::aws-sdk:ssm:getParameter", `{"Name":"/nope"}`,
			"Ssm.ParameterNotFoundException", "(Service: Ssm, Status Code: 400, Request ID: "},
		// "Item": null reaches DynamoDB without an Item, as from AWS's
		// SDKs; AWS answers "1 validation error detected: Value null at
		// 'item' failed to satisfy constraint: Member must not be null"
		// (DynamoDB.AmazonDynamoDBException, ValidationException; aws-sdk:
		// DynamoDb.DynamoDbException); moto 5.2.1 fails with HTTP 500.
		{"dynamodb null item (moto differs)", "arn:aws:states:::dynamodb:putItem", `{"TableName":"` + tbl + `","Item":null}`,
			"DynamoDB.SdkClientException", "StatusCode: 500"},
		{"sdk dynamodb null item (moto differs)", "arn:aws:states:::aws-sdk:dynamodb:putItem", `{"TableName":"` + tbl + `","Item":null}`,
			"DynamoDb.SdkClientException", "StatusCode: 500"},
		{"unknown member", "arn:aws:states:::aws-sdk:s3:getObject", `{"Bucket":"` + bucket + `","Nope":1}`,
			"States.Runtime", "Nope: not a member of GetObjectInput"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.in.Invoke(context.Background(), task(tt.resource, tt.params))
			fe := failure(t, err)
			if fe.Name != tt.error || !strings.Contains(fe.Cause, tt.cause) {
				t.Errorf("got %s / %s\nwant %s / …%s…", fe.Name, fe.Cause, tt.error, tt.cause)
			}
		})
	}
}

func TestSNSPublishToSQS(t *testing.T) {
	e := startEmulator(t)
	topic := e.topic(t, unique("fanout"))
	q := e.queue(t, unique("subscriber"))
	ctx := context.Background()
	attrs, err := sqs.NewFromConfig(e.cfg).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(q), AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sns.NewFromConfig(e.cfg).Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String("sqs"),
		Endpoint: aws.String(attrs.Attributes["QueueArn"])}); err != nil {
		t.Fatal(err)
	}
	res := e.invoke(t, "arn:aws:states:::sns:publish", `{"TopicArn":"`+topic+`","Message":{"Message":"HelloWorld!"},
		"MessageAttributes":{"my_attribute":{"DataType":"String","StringValue":"Hello"}}}`)
	if id, _ := get(t, res, "MessageId").(string); id == "" {
		t.Errorf("no MessageId: %s", value.String(res))
	}
	if got := get(t, res, "SdkHttpMetadata.HttpHeaders.Content-Type"); got != "text/xml" {
		t.Errorf("Content-Type = %v, want AWS's text/xml", got)
	}
	msgs, err := sqs.NewFromConfig(e.cfg).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q), WaitTimeSeconds: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs.Messages) != 1 {
		t.Fatalf("received %d messages", len(msgs.Messages))
	}
	var envelope struct {
		Message           string
		MessageAttributes map[string]struct{ Value string }
	}
	if err := json.Unmarshal([]byte(*msgs.Messages[0].Body), &envelope); err != nil {
		t.Fatal(err)
	}
	if envelope.Message != `{"Message":"HelloWorld!"}` || envelope.MessageAttributes["my_attribute"].Value != "Hello" {
		t.Errorf("SNS delivered %s", *msgs.Messages[0].Body)
	}
}

func TestEventsPutEvents(t *testing.T) {
	e := startEmulator(t)
	res := e.invoke(t, "arn:aws:states:::events:putEvents", `{"Entries":[
		{"Detail":"{\"Message\": \"HelloWorld0\"}","DetailType":"t","Source":"some.source"},
		{"Detail":{"Message":"HelloWorld1"},"DetailType":"t","Source":"some.source"}]}`)
	if got := get(t, res, "FailedEntryCount"); got != int64(0) {
		t.Errorf("FailedEntryCount = %v", got)
	}
	if entries, _ := get(t, res, "Entries").([]any); len(entries) != 2 {
		t.Errorf("Entries: %s", value.String(res))
	}
	if res.(*value.Object).Has("SdkHttpMetadata") {
		t.Errorf("events:putEvents has no SdkHttpMetadata on AWS: %s", value.String(res))
	}
	// An entry without Source fails the task with EventBridge.FailedEntry,
	// the response as its cause.
	_, err := e.in.Invoke(context.Background(), task("arn:aws:states:::events:putEvents", `{"Entries":[
		{"Detail":{"Message":"HelloWorld1"},"DetailType":"t","Source":"some.source"},
		{"Detail":{"Message":"HelloWorld"},"DetailType":"t"}]}`))
	fe := failure(t, err)
	if fe.Name != "EventBridge.FailedEntry" || !strings.Contains(fe.Cause, `"FailedEntryCount":1`) {
		t.Errorf("got %s / %s", fe.Name, fe.Cause)
	}
}

// TestSDKServices calls every listed service through aws-sdk resources at
// least once.
func TestSDKServices(t *testing.T) {
	e := startEmulator(t)
	const sdk = "arn:aws:states:::aws-sdk:"
	files, sdkQueue, sdkTopic, sdkTable := unique("files"), unique("sdk-queue"), unique("sdk-topic"), unique("sdk-table")
	secret, param := unique("db-password"), "/"+unique("app")+"/color"
	t.Run("s3", func(t *testing.T) {
		e.invoke(t, sdk+"s3:createBucket", `{"Bucket":"`+files+`"}`)
		put := e.invoke(t, sdk+"s3:putObject", `{"Bucket":"`+files+`","Key":"a.txt","Body":"text data"}`)
		// AWS stores a string Body as its JSON text: the ETag is the
		// MD5 of "\"text data\"", as AWS recorded it.
		if etag, _ := get(t, put, "ETag").(string); etag != `"2b5df3712557f503a9977a8ea893b2c9"` {
			t.Errorf("putObject: %s", value.String(put))
		}
		// The CRC32 checksum the AWS SDK for Java 2 sends by default, as
		// AWS recorded it for this body.
		if sum := get(t, put, "ChecksumCRC32"); sum != "KUmHvQ==" {
			t.Errorf("putObject ChecksumCRC32 = %v, want KUmHvQ==", sum)
		}
		e.invoke(t, sdk+"s3:putObject", `{"Bucket":"`+files+`","Key":"b.json","Body":["List","Data"]}`)
		got := e.invoke(t, sdk+"s3:getObject", `{"Bucket":"`+files+`","Key":"b.json"}`)
		if get(t, got, "Body") != `["List","Data"]` || get(t, got, "ContentLength") != int64(15) || value.String(get(t, got, "Metadata")) != `{}` {
			t.Errorf("getObject: %s", value.String(got))
		}
		list := e.invoke(t, sdk+"s3:listBuckets", `{}`)
		found := false
		for _, b := range get(t, list, "Buckets").([]any) {
			found = found || get(t, b, "Name") == files
		}
		if !found {
			t.Errorf("listBuckets: %s", value.String(list))
		}
	})
	t.Run("sqs", func(t *testing.T) {
		created := e.invoke(t, sdk+"sqs:createQueue", `{"QueueName":"`+sdkQueue+`"}`)
		q := get(t, created, "QueueUrl").(string)
		e.invoke(t, sdk+"sqs:sendMessage", `{"QueueUrl":"`+q+`","MessageBody":"hello"}`)
		got := e.invoke(t, sdk+"sqs:receiveMessage", `{"QueueUrl":"`+q+`","WaitTimeSeconds":5}`)
		if m, _ := get(t, got, "Messages").([]any); len(m) != 1 || get(t, m[0], "Body") != "hello" {
			t.Errorf("receiveMessage: %s", value.String(got))
		}
	})
	t.Run("sns", func(t *testing.T) {
		created := e.invoke(t, sdk+"sns:createTopic", `{"Name":"`+sdkTopic+`"}`)
		arn := get(t, created, "TopicArn").(string)
		got := e.invoke(t, sdk+"sns:publish", `{"TopicArn":"`+arn+`","Message":"hi"}`)
		if o := got.(*value.Object); !o.Has("MessageId") || o.Has("SdkHttpMetadata") {
			t.Errorf("publish: %s", value.String(got))
		}
	})
	t.Run("dynamodb", func(t *testing.T) {
		e.table(t, sdkTable)
		put := e.invoke(t, sdk+"dynamodb:putItem", `{"TableName":"`+sdkTable+`","Item":{"id":{"S":"id1"},"b":{"B":"aGk="}}}`)
		if value.String(put) != `{}` {
			t.Errorf("putItem = %s, want {}", value.String(put))
		}
		got := e.invoke(t, sdk+"dynamodb:getItem", `{"TableName":"`+sdkTable+`","Key":{"id":{"S":"id1"}}}`)
		if s := value.String(get(t, got, "Item.b")); s != `{"B":"aGk="}` {
			t.Errorf("getItem Item.b = %s", s)
		}
	})
	t.Run("eventbridge", func(t *testing.T) {
		got := e.invoke(t, sdk+"eventbridge:listEventBuses", `{}`)
		if b, _ := get(t, got, "EventBuses").([]any); len(b) == 0 {
			t.Errorf("listEventBuses: %s", value.String(got))
		}
	})
	t.Run("sfn", func(t *testing.T) {
		got := e.invoke(t, sdk+"sfn:listStateMachines", `{}`)
		if _, ok := get(t, got, "StateMachines").([]any); !ok {
			t.Errorf("listStateMachines: %s", value.String(got))
		}
	})
	t.Run("lambda", func(t *testing.T) {
		got := e.invoke(t, sdk+"lambda:listFunctions", `{}`)
		if _, ok := get(t, got, "Functions").([]any); !ok {
			t.Errorf("listFunctions: %s", value.String(got))
		}
	})
	t.Run("secretsmanager", func(t *testing.T) {
		e.invoke(t, sdk+"secretsmanager:createSecret", `{"Name":"`+secret+`","SecretString":"s3cr3t"}`)
		got := e.invoke(t, sdk+"secretsmanager:getSecretValue", `{"SecretId":"`+secret+`"}`)
		if get(t, got, "SecretString") != "s3cr3t" {
			t.Errorf("getSecretValue: %s", value.String(got))
		}
		if _, ok := get(t, got, "CreatedDate").(string); !ok {
			t.Errorf("CreatedDate is not a timestamp text: %s", value.String(got))
		}
	})
	t.Run("ssm", func(t *testing.T) {
		e.invoke(t, sdk+"ssm:putParameter", `{"Name":"`+param+`","Value":"blue","Type":"String"}`)
		got := e.invoke(t, sdk+"ssm:getParameter", `{"Name":"`+param+`"}`)
		if get(t, got, "Parameter.Value") != "blue" {
			t.Errorf("getParameter: %s", value.String(got))
		}
	})
	t.Run("sts", func(t *testing.T) {
		got := e.invoke(t, sdk+"sts:getCallerIdentity", `{}`)
		if get(t, got, "Account") != "111111111111" {
			t.Errorf("getCallerIdentity: %s", value.String(got))
		}
	})
	t.Run("kms", func(t *testing.T) {
		key := get(t, e.invoke(t, sdk+"kms:createKey", `{}`), "KeyMetadata.KeyId").(string)
		enc := e.invoke(t, sdk+"kms:encrypt", `{"KeyId":"`+key+`","Plaintext":"aGVsbG8="}`)
		blob := get(t, enc, "CiphertextBlob").(string)
		dec := e.invoke(t, sdk+"kms:decrypt", `{"CiphertextBlob":"`+blob+`"}`)
		if get(t, dec, "Plaintext") != "aGVsbG8=" {
			t.Errorf("decrypt: %s", value.String(dec))
		}
	})
}

// TestMotoDifferences names where moto 5.2.1 answers differently from AWS
// for what the conformance corpus records: the integration sends what
// AWS's SDKs send, and reports the emulator's answer as it is. Each row
// checks moto's answer, so that a moto that changes shows here.
func TestMotoDifferences(t *testing.T) {
	e := startEmulator(t)
	fifo := e.invoke(t, "arn:aws:states:::aws-sdk:sns:createTopic", `{"Name":"`+unique("fifo")+`.fifo","Attributes":{"FifoTopic":"true"}}`)
	fifoArn := get(t, fifo, "TopicArn").(string)
	tests := []struct {
		name, aws, resource, params string
		error, cause                string // moto's answer ("" error: success)
	}{
		{"sns fifo without MessageGroupId",
			`SNS.InvalidParameterException "Invalid parameter: The MessageGroupId parameter is required for FIFO topics (…Error Code: InvalidParameter…)"`,
			"arn:aws:states:::sns:publish", `{"TopicArn":"` + fifoArn + `","Message":"x"}`,
			"SNS.AmazonSNSException", "The request must contain the parameter MessageGroupId. (Service: AmazonSNS; Status Code: 400; Error Code: MissingParameter;"},
		{"sns fifo publish", `a result with SequenceNumber`,
			"arn:aws:states:::sns:publish", `{"TopicArn":"` + fifoArn + `","Message":"x","MessageGroupId":"g","MessageDeduplicationId":"d"}`,
			"", ""},
		{"secretsmanager invalid name",
			`SecretsManager.SecretsManagerException "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@! (Service: SecretsManager, Status Code: 400, …)"`,
			"arn:aws:states:::aws-sdk:secretsmanager:createSecret", `{"Name":"Invalid Name ` + unique("x") + `","SecretString":"x"}`,
			"", ""},
		{"events detail not an object",
			`EventBridge.FailedEntry with {"ErrorCode":"MalformedDetail","ErrorMessage":"Detail is malformed."} for the entry`,
			"arn:aws:states:::events:putEvents", `{"Entries":[{"Detail":"\"jsonstring\"","DetailType":"t","Source":"some.source"}]}`,
			"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := e.in.Invoke(context.Background(), task(tt.resource, tt.params))
			if tt.error == "" {
				if err != nil {
					t.Fatalf("moto now fails (AWS: %s): %v", tt.aws, err)
				}
				if o := res.(*value.Object); o.Has("SequenceNumber") {
					t.Errorf("moto now answers as AWS (%s): %s", tt.aws, value.String(res))
				}
				return
			}
			fe := failure(t, err)
			if fe.Name != tt.error || !strings.Contains(fe.Cause, tt.cause) {
				t.Errorf("moto answers %s / %s (AWS: %s)", fe.Name, fe.Cause, tt.aws)
			}
		})
	}
}
