// Package motoaws tests scripts/moto/moto_aws.py, the moto_server that
// scripts/conformance-services.sh runs: for each AWS behaviour it patches
// into moto, the patched emulator must answer as AWS documents (checked
// with the AWS SDK for Go, as a user's program would call it), and plain
// moto_server must still answer otherwise. When a moto upgrade changes one
// of these, this test fails: either the patch broke (fix it) or moto now
// does what AWS does (remove the patch).
//
// It needs moto_server (pip install 'moto[server]'): skipped without it,
// failing under CI or STEPWELL_REQUIRE_MOTO.
package motoaws

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc64"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/stepwell/stepwell/internal/motoserver"
)

// launcher is the patched emulator, relative to this package.
const launcher = "../../scripts/moto/moto_aws.py"

// clients are the SDK clients of one emulator.
type clients struct {
	s3      *s3.Client
	sqs     *sqs.Client
	sns     *sns.Client
	events  *eventbridge.Client
	secrets *secretsmanager.Client
	ddb     *dynamodb.Client
}

func newClients(url string) *clients {
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDMOTOAWS", "secret", ""),
		BaseEndpoint: aws.String(url),
		// Send what the test gives, even what the service requires: the
		// service, not the SDK, must refuse a missing parameter.
		APIOptions: []func(*middleware.Stack) error{func(s *middleware.Stack) error {
			_, _ = s.Initialize.Remove("OperationInputValidation")
			return nil
		}},
	}
	return &clients{
		s3:      s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		sqs:     sqs.NewFromConfig(cfg),
		sns:     sns.NewFromConfig(cfg),
		events:  eventbridge.NewFromConfig(cfg),
		secrets: secretsmanager.NewFromConfig(cfg),
		ddb:     dynamodb.NewFromConfig(cfg),
	}
}

var seq atomic.Int64

// unique returns a resource name no other check of this run uses.
func unique(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%1e9, seq.Add(1))
}

// behaviour is one AWS behaviour the launcher patches in: check returns
// nil when the emulator answers as AWS documents, else what differs.
type behaviour struct {
	name, doc string
	check     func(ctx context.Context, c *clients) error
}

// behaviours are the launcher's patches, one row each.
var behaviours = []behaviour{
	{"s3 PutObject default encryption and checksum",
		"https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html",
		checkPutObjectDefaults},
	{"s3 PutObject checksum type of a CRC32 upload",
		"https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html",
		checkPutObjectCRC32},
	{"s3 GetObject default encryption and stored checksum",
		"https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingServerSideEncryption.html",
		checkGetObject},
	{"s3 bucket default encryption configuration",
		"https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketEncryption.html",
		checkBucketEncryption},
	{"sqs SendMessage without MessageBody",
		"https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/CommonErrors.html",
		checkSendMessageWithoutBody},
	{"sns Publish to a missing topic",
		"https://docs.aws.amazon.com/sns/latest/api/API_Publish.html",
		checkPublishMissingTopic},
	{"sns Publish to a FIFO topic without MessageGroupId",
		"https://docs.aws.amazon.com/sns/latest/api/API_Publish.html",
		checkFIFOWithoutGroup},
	{"sns Publish to a FIFO topic answers SequenceNumber",
		"https://docs.aws.amazon.com/sns/latest/api/API_Publish.html",
		checkFIFOSequenceNumber},
	{"eventbridge PutEvents with a Detail that is not an object",
		"https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsResultEntry.html",
		checkMalformedDetail},
	{"secretsmanager CreateSecret with an invalid name",
		"https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html",
		checkInvalidSecretName},
	{"dynamodb PutItem without Item",
		"https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html",
		checkPutItemWithoutItem},
}

// TestPatchedEmulatorAnswersAsAWS runs every behaviour against the
// launcher (each must hold) and against plain moto_server (each must not:
// a patch moto made unnecessary is to be removed).
func TestPatchedEmulatorAnswersAsAWS(t *testing.T) {
	path, err := filepath.Abs(launcher)
	if err != nil {
		t.Fatal(err)
	}
	emulators := []struct {
		name   string
		url    string
		asAWS  bool
		reason string
	}{
		{"moto_aws.py", motoserver.StartCommand(t, path), true, "the patch no longer holds"},
		{"moto_server", motoserver.Start(t), false, "moto_server now answers as AWS: remove the patch from " + launcher},
	}
	for _, e := range emulators {
		c := newClients(e.url)
		t.Run(e.name, func(t *testing.T) {
			for _, b := range behaviours {
				t.Run(b.name, func(t *testing.T) {
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					err := b.check(ctx, c)
					if e.asAWS && err != nil {
						t.Errorf("%s (%s): %v", e.reason, b.doc, err)
					}
					if !e.asAWS && err == nil {
						t.Errorf("%s (%s)", e.reason, b.doc)
					}
				})
			}
		})
	}
}

// crc64NVME is S3's CRC64NVME of data, base64 as S3 sends it.
func crc64NVME(data []byte) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], crc64.Checksum(data, crc64.MakeTable(0x9A6C9329AC4BC9B5)))
	return base64.StdEncoding.EncodeToString(b[:])
}

func TestCRC64NVME(t *testing.T) {
	// the check value of CRC-64/NVME
	if got, want := crc64.Checksum([]byte("123456789"), crc64.MakeTable(0x9A6C9329AC4BC9B5)), uint64(0xAE8B14860A799888); got != want {
		t.Fatalf("crc64nvme(123456789) = %#x, want %#x", got, want)
	}
}

// newBucket creates a bucket, as the conformance harness does.
func newBucket(ctx context.Context, c *clients) (string, error) {
	name := unique("motoaws")
	_, err := c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
	return name, err
}

// noChecksum makes the SDK send no checksum of its own (an upload "without
// a checksum", as curl or an older SDK sends it).
func noChecksum(o *s3.Options) {
	o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
}

func checkPutObjectDefaults(ctx context.Context, c *clients) error {
	bucket, err := newBucket(ctx, c)
	if err != nil {
		return err
	}
	body := []byte("text data")
	out, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("k"), Body: bytes.NewReader(body)}, noChecksum)
	if err != nil {
		return err
	}
	var diffs []string
	if out.ServerSideEncryption != s3types.ServerSideEncryptionAes256 {
		diffs = append(diffs, fmt.Sprintf("ServerSideEncryption %q, AWS: AES256 (SSE-S3, every bucket since 2023-01-05)", out.ServerSideEncryption))
	}
	if out.ChecksumType != s3types.ChecksumTypeFullObject {
		diffs = append(diffs, fmt.Sprintf("ChecksumType %q, AWS: FULL_OBJECT", out.ChecksumType))
	}
	if got, want := aws.ToString(out.ChecksumCRC64NVME), crc64NVME(body); got != want {
		diffs = append(diffs, fmt.Sprintf("ChecksumCRC64NVME %q, AWS: %q (the default checksum of an upload without one)", got, want))
	}
	return joinDiffs(diffs)
}

func checkPutObjectCRC32(ctx context.Context, c *clients) error {
	bucket, err := newBucket(ctx, c)
	if err != nil {
		return err
	}
	// the JSON text "text data" (with its quotes), as Step Functions sends
	// the Body of test_s3_put_object[str]: the corpus recorded its CRC32
	out, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("k"),
		Body: strings.NewReader(`"text data"`), ChecksumAlgorithm: s3types.ChecksumAlgorithmCrc32})
	if err != nil {
		return err
	}
	var diffs []string
	if got := aws.ToString(out.ChecksumCRC32); got != "KUmHvQ==" {
		diffs = append(diffs, fmt.Sprintf("ChecksumCRC32 %q, AWS: KUmHvQ==", got))
	}
	if out.ChecksumType != s3types.ChecksumTypeFullObject {
		diffs = append(diffs, fmt.Sprintf("ChecksumType %q, AWS: FULL_OBJECT", out.ChecksumType))
	}
	if out.ChecksumCRC64NVME != nil {
		diffs = append(diffs, "ChecksumCRC64NVME answered for a CRC32 upload")
	}
	return joinDiffs(diffs)
}

func checkGetObject(ctx context.Context, c *clients) error {
	bucket, err := newBucket(ctx, c)
	if err != nil {
		return err
	}
	body := []byte("binary data")
	if _, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("k"), Body: bytes.NewReader(body)}, noChecksum); err != nil {
		return err
	}
	var diffs []string
	plain, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("k")},
		func(o *s3.Options) { o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired })
	if err != nil {
		return err
	}
	got, err := io.ReadAll(plain.Body)
	_ = plain.Body.Close()
	if err != nil || !bytes.Equal(got, body) {
		return fmt.Errorf("GetObject body %q, %v", got, err)
	}
	if plain.ServerSideEncryption != s3types.ServerSideEncryptionAes256 {
		diffs = append(diffs, fmt.Sprintf("GetObject ServerSideEncryption %q, AWS: AES256", plain.ServerSideEncryption))
	}
	if plain.ChecksumCRC64NVME != nil || plain.ChecksumType != "" {
		diffs = append(diffs, "GetObject without x-amz-checksum-mode answers a checksum")
	}
	// ChecksumMode ENABLED: the stored checksum, which the SDK also verifies
	withSum, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("k"), ChecksumMode: s3types.ChecksumModeEnabled})
	if err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, withSum.Body); err != nil {
		return fmt.Errorf("GetObject with ChecksumMode ENABLED: %w", err)
	}
	_ = withSum.Body.Close()
	if got, want := aws.ToString(withSum.ChecksumCRC64NVME), crc64NVME(body); got != want {
		diffs = append(diffs, fmt.Sprintf("GetObject ChecksumCRC64NVME %q, AWS: %q", got, want))
	}
	if withSum.ChecksumType != s3types.ChecksumTypeFullObject {
		diffs = append(diffs, fmt.Sprintf("GetObject ChecksumType %q, AWS: FULL_OBJECT", withSum.ChecksumType))
	}
	return joinDiffs(diffs)
}

func checkBucketEncryption(ctx context.Context, c *clients) error {
	bucket, err := newBucket(ctx, c)
	if err != nil {
		return err
	}
	sse := func(when string) error {
		out, err := c.s3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: &bucket})
		if err != nil {
			return fmt.Errorf("GetBucketEncryption %s: %w", when, err)
		}
		if r := out.ServerSideEncryptionConfiguration; r == nil || len(r.Rules) != 1 || r.Rules[0].ApplyServerSideEncryptionByDefault == nil ||
			r.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != s3types.ServerSideEncryptionAes256 {
			return fmt.Errorf("GetBucketEncryption %s: not the SSE-S3 rule", when)
		}
		return nil
	}
	if err := sse("of a new bucket"); err != nil {
		return err
	}
	if _, err := c.s3.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: &bucket}); err != nil {
		return err
	}
	return sse("after DeleteBucketEncryption")
}

func checkSendMessageWithoutBody(ctx context.Context, c *clients) error {
	q, err := c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(unique("motoaws"))})
	if err != nil {
		return err
	}
	_, err = c.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl}, func(o *sqs.Options) { o.RetryMaxAttempts = 1 })
	return wantAPIError(err, 400, "MissingParameter", "The request must contain the parameter MessageBody.")
}

func checkPublishMissingTopic(ctx context.Context, c *clients) error {
	_, err := c.sns.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String("arn:aws:sns:us-east-1:" + motoserver.AccountID + ":" + unique("missing")), Message: aws.String("x")})
	return wantAPIError(err, 404, "NotFound", "Topic does not exist")
}

func newFIFOTopic(ctx context.Context, c *clients) (*string, error) {
	out, err := c.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(unique("motoaws") + ".fifo"),
		Attributes: map[string]string{"FifoTopic": "true"}})
	if err != nil {
		return nil, err
	}
	return out.TopicArn, nil
}

func checkFIFOWithoutGroup(ctx context.Context, c *clients) error {
	arn, err := newFIFOTopic(ctx, c)
	if err != nil {
		return err
	}
	_, err = c.sns.Publish(ctx, &sns.PublishInput{TopicArn: arn, Message: aws.String("x"), MessageDeduplicationId: aws.String("d")})
	return wantAPIError(err, 400, "InvalidParameter", "Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
}

// sequenceNumber is the form of SNS's FIFO sequence numbers (20 digits, as
// the corpus recorded them: the wire length of the response counts them).
var sequenceNumber = regexp.MustCompile(`^[1-9][0-9]{19}$`)

func checkFIFOSequenceNumber(ctx context.Context, c *clients) error {
	arn, err := newFIFOTopic(ctx, c)
	if err != nil {
		return err
	}
	var last string
	for i := range 2 {
		out, err := c.sns.Publish(ctx, &sns.PublishInput{TopicArn: arn, Message: aws.String("x"),
			MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String(fmt.Sprint("d", i))})
		if err != nil {
			return err
		}
		n := aws.ToString(out.SequenceNumber)
		if !sequenceNumber.MatchString(n) {
			return fmt.Errorf("SequenceNumber %q, AWS: 20 digits", n)
		}
		if len(n) == len(last) && n <= last {
			return fmt.Errorf("SequenceNumber %s after %s in the same group: AWS's increase", n, last)
		}
		last = n
	}
	return nil
}

func checkMalformedDetail(ctx context.Context, c *clients) error {
	out, err := c.events.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		{Detail: aws.String(`{"Message": "HelloWorld0"}`), DetailType: aws.String("t"), Source: aws.String("some.source")},
		{Detail: aws.String(`"jsonstring"`), DetailType: aws.String("t"), Source: aws.String("some.source")},
	}})
	if err != nil {
		return err
	}
	e := out.Entries
	if out.FailedEntryCount != 1 || len(e) != 2 || e[0].EventId == nil || e[0].ErrorCode != nil ||
		aws.ToString(e[1].ErrorCode) != "MalformedDetail" || aws.ToString(e[1].ErrorMessage) != "Detail is malformed." || e[1].EventId != nil {
		return fmt.Errorf("FailedEntryCount %d, entries %s; AWS: 1, [{EventId}, {MalformedDetail: Detail is malformed.}]",
			out.FailedEntryCount, describeEntries(e))
	}
	return nil
}

func describeEntries(es []ebtypes.PutEventsResultEntry) string {
	var parts []string
	for _, e := range es {
		parts = append(parts, fmt.Sprintf("{EventId %q ErrorCode %q ErrorMessage %q}",
			aws.ToString(e.EventId), aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage)))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func checkInvalidSecretName(ctx context.Context, c *clients) error {
	name := "Invalid Name " + unique("x")
	_, err := c.secrets.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: &name, SecretString: aws.String("HelloWorld")})
	if err := wantAPIError(err, 400, "ValidationException",
		"Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!"); err != nil {
		return err
	}
	list, err := c.secrets.ListSecrets(ctx, &secretsmanager.ListSecretsInput{})
	if err != nil {
		return err
	}
	for _, s := range list.SecretList {
		if aws.ToString(s.Name) == name {
			return fmt.Errorf("ListSecrets lists the secret %q that AWS refuses to create", name)
		}
	}
	return nil
}

func checkPutItemWithoutItem(ctx context.Context, c *clients) error {
	_, err := c.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(unique("no_such_table"))},
		func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
	return wantAPIError(err, 400, "ValidationException",
		"1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null")
}

// wantAPIError returns nil when err is the service error AWS answers:
// its HTTP status, error code and message.
func wantAPIError(err error, status int, code, message string) error {
	if err == nil {
		return fmt.Errorf("no error; AWS: %d %s %q", status, code, message)
	}
	var api smithy.APIError
	if !errors.As(err, &api) {
		return fmt.Errorf("%v; AWS: %d %s %q", err, status, code, message)
	}
	var re interface{ HTTPStatusCode() int }
	got := 0
	if errors.As(err, &re) {
		got = re.HTTPStatusCode()
	}
	if got != status || api.ErrorCode() != code || api.ErrorMessage() != message {
		return fmt.Errorf("%d %s %q; AWS: %d %s %q", got, api.ErrorCode(), api.ErrorMessage(), status, code, message)
	}
	return nil
}

func joinDiffs(diffs []string) error {
	if len(diffs) == 0 {
		return nil
	}
	return errors.New(strings.Join(diffs, "; "))
}
