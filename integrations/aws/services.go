package awsint

import (
	"reflect"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/stepwell/stepwell/value"
)

//go:generate go run gen_errors.go

// service is one AWS service the integration calls: a row of the table
// below. Adding a service is adding a row (and its SDK module, and its
// module to gen_errors.go, whose go generate lists the errors its API
// models in errors_gen.go).
type service struct {
	// name is the service as aws-sdk resources name it
	// (arn:aws:states:::aws-sdk:NAME:action).
	name string
	// key is its endpoint key in Config.Endpoints (the SDKs' service id
	// as in AWS_ENDPOINT_URL_<SERVICE>, lowercase).
	key string
	// sdkName is the service's name in AWS's error names and causes
	// (<sdkName>.<Error>, "Service: <sdkName>"): the AWS SDK for Java 2's
	// client name, which Step Functions uses.
	sdkName string
	// newClient returns the SDK client for cfg (its BaseEndpoint set when
	// an endpoint is configured).
	newClient func(cfg aws.Config) any
	// unions registers the service's union types.
	unions []func(unions)
	// trim, when set, removes from a result what AWS would not have
	// returned for those parameters but some emulators do.
	trim func(params, result *value.Object) *value.Object
	// defaults are parameters a call gets when it does not give them, by
	// API operation: what the AWS SDK for Java 2 sends on its own (S3
	// PutObject's CRC32 checksum).
	defaults map[string]map[string]any
	// textBlobs names the blob members that hold JSON: parameters are
	// sent as the value's JSON text and results show the text (Lambda's
	// Payload: "the Payload field of the response is" escaped JSON in
	// the AWS SDK integration, AWS documents). Other blobs are base64.
	textBlobs map[string]bool
	// emptyMaps lists the output members AWS always returns, as {} when
	// empty (S3's Metadata, read from x-amz-meta-* headers).
	emptyMaps []string
	// hostID: causes carry "Extended Request ID" (S3).
	hostID bool
	// attemptCount: causes end with "(SDK Attempt Count: N)", as AWS
	// recorded them for this service.
	attemptCount bool

	typeOnce sync.Once
	typ      reflect.Type
}

// clientType returns the type of the service's SDK client.
func (s *service) clientType() reflect.Type {
	s.typeOnce.Do(func() { s.typ = reflect.TypeOf(s.newClient(aws.Config{})) })
	return s.typ
}

// services is every service of aws-sdk tasks and of the optimized
// integrations.
var services = []*service{
	{name: "dynamodb", key: "dynamodb", sdkName: "DynamoDb",
		newClient: func(c aws.Config) any { return dynamodb.NewFromConfig(c) },
		unions: []func(unions){union[ddbtypes.AttributeValue](
			&ddbtypes.AttributeValueMemberB{}, &ddbtypes.AttributeValueMemberBOOL{}, &ddbtypes.AttributeValueMemberBS{},
			&ddbtypes.AttributeValueMemberL{}, &ddbtypes.AttributeValueMemberM{}, &ddbtypes.AttributeValueMemberN{},
			&ddbtypes.AttributeValueMemberNS{}, &ddbtypes.AttributeValueMemberNULL{}, &ddbtypes.AttributeValueMemberS{},
			&ddbtypes.AttributeValueMemberSS{})},
		trim: withoutUnaskedCapacity},
	{name: "eventbridge", key: "eventbridge", sdkName: "EventBridge",
		newClient: func(c aws.Config) any { return eventbridge.NewFromConfig(c) }},
	{name: "kms", key: "kms", sdkName: "Kms",
		newClient: func(c aws.Config) any { return kms.NewFromConfig(c) }},
	{name: "lambda", key: "lambda", sdkName: "Lambda", textBlobs: map[string]bool{"Payload": true},
		newClient: func(c aws.Config) any { return lambda.NewFromConfig(c) }},
	{name: "s3", key: "s3", sdkName: "S3", hostID: true,
		defaults:  map[string]map[string]any{"PutObject": {"ChecksumAlgorithm": "CRC32"}},
		emptyMaps: []string{"Metadata"},
		// Emulators serve buckets by path (http://host:port/bucket/key).
		newClient: func(c aws.Config) any {
			return s3.NewFromConfig(c, func(o *s3.Options) { o.UsePathStyle = c.BaseEndpoint != nil })
		}},
	{name: "secretsmanager", key: "secretsmanager", sdkName: "SecretsManager",
		newClient: func(c aws.Config) any { return secretsmanager.NewFromConfig(c) }},
	{name: "sfn", key: "sfn", sdkName: "Sfn", attemptCount: true,
		newClient: func(c aws.Config) any { return sfn.NewFromConfig(c) }},
	{name: "sns", key: "sns", sdkName: "Sns",
		newClient: func(c aws.Config) any { return sns.NewFromConfig(c) }},
	{name: "sqs", key: "sqs", sdkName: "Sqs",
		newClient: func(c aws.Config) any { return sqs.NewFromConfig(c) }},
	{name: "ssm", key: "ssm", sdkName: "Ssm",
		newClient: func(c aws.Config) any { return ssm.NewFromConfig(c) }},
	{name: "sts", key: "sts", sdkName: "Sts",
		newClient: func(c aws.Config) any { return sts.NewFromConfig(c) }},
}

// withoutUnaskedCapacity removes ConsumedCapacity from a DynamoDB result
// when the parameters did not ask for it: DynamoDB returns it only for
// ReturnConsumedCapacity INDEXES or TOTAL; moto 5.2.1 always does.
func withoutUnaskedCapacity(params, result *value.Object) *value.Object {
	if rc, _ := params.Get("ReturnConsumedCapacity"); rc == "INDEXES" || rc == "TOTAL" || !result.Has("ConsumedCapacity") {
		return result
	}
	result = result.Copy()
	result.Delete("ConsumedCapacity")
	return result
}

// serviceNamed returns the service aws-sdk resources call name.
func serviceNamed(name string) *service {
	for _, s := range services {
		if s.name == name {
			return s
		}
	}
	return nil
}

// optimized is one optimized integration (arn:aws:states:::SERVICE:action):
// an API call of a service with Step Functions' own touches, shaped as the
// AWS SDK for Java 1 that Step Functions uses for them reports results and
// errors.
type optimized struct {
	svc    *service
	action string // the API operation
	// callback: the .waitForTaskToken pattern is supported.
	callback bool
	// prefix names errors (<prefix>.<Exception>); v1Service is the
	// "Service:" of causes; generic is the exception of unmodeled errors.
	prefix, v1Service, generic string
	// stringify lists the parameters sent as JSON text when they are not
	// strings (SQS's MessageBody, SNS's Message, EventBridge's
	// Entries[].Detail).
	stringify []string
	// metadata: results carry SdkHttpMetadata and SdkResponseMetadata,
	// with these HTTP headers, spelled as AWS's response spells them.
	metadata bool
	headers  []string
	// failedEntries: a result with FailedEntryCount > 0 fails the task
	// with <prefix>.FailedEntry, the result as cause (events:putEvents).
	failedEntries bool
}

// optimizedIntegrations maps "service:action" of optimized resources to
// their integration.
var optimizedIntegrations = func() map[string]*optimized {
	sqsv := serviceNamed("sqs")
	snsv := serviceNamed("sns")
	ddb := serviceNamed("dynamodb")
	eb := serviceNamed("eventbridge")
	// The headers of AWS's responses as the corpus recorded them (late
	// 2025; DynamoDB's GetItem spells its request id in lower case).
	queryHeaders := []string{"x-amzn-RequestId", "connection", "Content-Length", "Date", "Content-Type"}
	ddbHeaders := []string{"Server", "Connection", "x-amzn-RequestId", "x-amz-crc32", "Content-Length", "Date", "Content-Type"}
	ddbOpt := func(action string, headers []string) *optimized {
		return &optimized{svc: ddb, action: action, prefix: "DynamoDB", v1Service: "AmazonDynamoDBv2",
			generic: "AmazonDynamoDBException", metadata: true, headers: headers}
	}
	return map[string]*optimized{
		"sqs:sendMessage": {svc: sqsv, action: "SendMessage", callback: true, prefix: "SQS", v1Service: "AmazonSQS",
			generic: "AmazonSQSException", stringify: []string{"MessageBody"}, metadata: true, headers: queryHeaders},
		"sns:publish": {svc: snsv, action: "Publish", callback: true, prefix: "SNS", v1Service: "AmazonSNS",
			generic: "AmazonSNSException", stringify: []string{"Message"}, metadata: true, headers: queryHeaders},
		"dynamodb:getItem": ddbOpt("GetItem",
			[]string{"Server", "x-amzn-requestid", "Connection", "x-amz-crc32", "Content-Length", "Date", "Content-Type"}),
		"dynamodb:putItem":    ddbOpt("PutItem", ddbHeaders),
		"dynamodb:updateItem": ddbOpt("UpdateItem", ddbHeaders),
		"dynamodb:deleteItem": ddbOpt("DeleteItem", ddbHeaders),
		"events:putEvents": {svc: eb, action: "PutEvents", callback: true, prefix: "EventBridge",
			v1Service: "AmazonEventBridge", generic: "AmazonEventBridgeException",
			stringify: []string{"Entries[].Detail"}, failedEntries: true},
	}
}()
