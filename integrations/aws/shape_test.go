package awsint

import (
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/value"
)

func TestInstant(t *testing.T) {
	base := time.Date(2024, 4, 18, 6, 27, 1, 0, time.FixedZone("x", 3600))
	for ns, want := range map[int]string{
		0: "2024-04-18T05:27:01Z", 5e8: "2024-04-18T05:27:01.500Z", 123456000: "2024-04-18T05:27:01.123456Z", 1: "2024-04-18T05:27:01.000000001Z",
	} {
		if got := instant(base.Add(time.Duration(ns))); got != want {
			t.Errorf("instant(+%dns) = %s, want %s", ns, got, want)
		}
	}
}

// codec is the integration's decoder and encoder.
func codec(t testing.TB) (decoder, encoder) {
	t.Helper()
	in, err := New(Config{Static: &placeholder})
	if err != nil {
		t.Fatal(err)
	}
	return in.dec, in.enc
}

// TestRoundTrip: a DynamoDB item with every kind of AttributeValue and an
// S3 input with a timestamp and a map decode into the SDK's structs and
// encode back unchanged.
func TestRoundTrip(t *testing.T) {
	dec, enc := codec(t)
	tests := []struct {
		typ  reflect.Type
		json string
	}{
		{reflect.TypeFor[dynamodb.PutItemInput](), `{"Item":{"b":{"B":"aGk="},"bool":{"BOOL":false},"bs":{"BS":["aGk=","eW8="]},` +
			`"l":{"L":[{"S":"x"},{"NULL":true}]},"m":{"M":{"n":{"N":"1.5"}}},"ns":{"NS":["1","2"]},"ss":{"SS":["a"]}},` +
			`"ReturnValues":"ALL_OLD","TableName":"t"}`},
		{reflect.TypeFor[s3.PutObjectInput](), `{"Bucket":"b","ContentLength":12,"Expires":"2024-04-18T06:27:01Z","Key":"k","Metadata":{"a":"1","b":"2"}}`},
	}
	for _, tt := range tests {
		v, err := dec.decode(value.MustParse(tt.json), tt.typ, "")
		if err != nil {
			t.Fatalf("%s: %v", tt.typ, err)
		}
		out, _, err := enc.encode(v)
		if err != nil {
			t.Fatal(err)
		}
		if !value.Equal(out, value.MustParse(tt.json)) {
			t.Errorf("%s:\n got %s\nwant %s", tt.typ, value.String(out), tt.json)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	dec, _ := codec(t)
	for params, want := range map[string]string{
		`{"TableName":1}`:                        "parameter TableName: expected a string, got number",
		`{"Item":{"a":{"S":"x","N":"1"}}}`:       "parameter Item.a: expected an object with exactly one member",
		`{"Item":{"a":{"X":"x"}}}`:               "parameter Item.a.X: not a member of AttributeValue",
		`{"Item":{"a":{"B":"not base64!"}}}`:     "parameter Item.a.B: expected base64 data",
		`{"Expected":{"a":{"Exists":"yes"}}}`:    "parameter Expected.a.Exists: expected a boolean, got string",
		`{"ReturnValues":["ALL_OLD"]}`:           "parameter ReturnValues: expected a string, got array",
		`{"ConditionalOperator":"AND","Nope":1}`: "parameter Nope: not a member of PutItemInput",
	} {
		_, err := dec.decode(value.MustParse(params), reflect.TypeFor[*dynamodb.PutItemInput](), "")
		if err == nil || len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
			t.Errorf("%s: %v, want %s…", params, err, want)
		}
	}
}

// BenchmarkReflection measures what reflection adds to a call: a DynamoDB
// PutItem's parameters into the SDK's input struct, and a GetItem output
// back into a value (no HTTP).
func BenchmarkReflection(b *testing.B) {
	dec, enc := codec(b)
	params := value.MustParse(`{"TableName":"orders","Item":{"id":{"S":"order-1"},"total":{"N":"42.5"},` +
		`"items":{"L":[{"M":{"sku":{"S":"a"},"n":{"N":"1"}}},{"M":{"sku":{"S":"b"},"n":{"N":"2"}}}]},"paid":{"BOOL":true}},` +
		`"ConditionExpression":"attribute_not_exists(id)"}`)
	typ := reflect.TypeFor[*dynamodb.PutItemInput]()
	in, err := dec.decode(params, typ, "")
	if err != nil {
		b.Fatal(err)
	}
	out := reflect.ValueOf(&dynamodb.GetItemOutput{Item: in.Interface().(*dynamodb.PutItemInput).Item})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dec.decode(params, typ, ""); err != nil {
			b.Fatal(err)
		}
		if _, _, err := enc.encode(out); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTextBlobs: Lambda's Payload is JSON text both ways, other blobs are
// base64.
func TestTextBlobs(t *testing.T) {
	dec, enc := codec(t)
	lam := serviceNamed("lambda")
	dec.text, enc.text = lam.textBlobs, lam.textBlobs
	v, err := dec.decode(value.MustParse(`{"FunctionName":"f","Payload":{"a":[1,"x"]}}`), reflect.TypeFor[*lambda.InvokeInput](), "")
	if err != nil {
		t.Fatal(err)
	}
	if got := string(v.Interface().(*lambda.InvokeInput).Payload); got != `{"a":[1,"x"]}` {
		t.Errorf("Payload sent = %s", got)
	}
	out, _, err := enc.encode(reflect.ValueOf(&lambda.InvokeOutput{StatusCode: 200, Payload: []byte(`{"r":2}`)}))
	if err != nil {
		t.Fatal(err)
	}
	if got := value.String(out); got != `{"Payload":"{\"r\":2}","StatusCode":200}` {
		t.Errorf("InvokeOutput = %s", got)
	}
	out, _, err = enc.encode(reflect.ValueOf(&kms.EncryptOutput{CiphertextBlob: []byte("hi")}))
	if err != nil {
		t.Fatal(err)
	}
	if got := value.String(out); got != `{"CiphertextBlob":"aGk="}` {
		t.Errorf("EncryptOutput = %s", got)
	}
}

// FuzzResource: any resource text is parsed without panicking; what
// Handles refuses, parse refuses too, and what parse accepts is checked
// the same way.
func FuzzResource(f *testing.F) {
	for _, s := range []string{"arn:aws:states:::sqs:sendMessage", "arn:aws:states:::aws-sdk:s3:getObject.waitForTaskToken",
		"arn:aws:states:::dynamodb:getItem.sync", "arn:aws-cn:states:::aws-sdk:x", "arn:aws:states:::events:", "arn::states:::sns:publish"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parse(s)
		if !Handles(s) && err == nil {
			t.Fatalf("parse(%q) accepts what Handles refuses", s)
		}
		if err == nil && (r.svc == nil || r.action == "") {
			t.Fatalf("parse(%q) = %+v", s, r)
		}
	})
}

// TestBodyLimit: a streaming body beyond maxBody is not read into memory;
// the task fails with States.DataLimitExceeded.
func TestBodyLimit(t *testing.T) {
	_, enc := codec(t)
	huge := io.NopCloser(io.LimitReader(zeros{}, maxBody+10))
	_, _, err := enc.encode(reflect.ValueOf(&s3.GetObjectOutput{Body: huge}))
	if fe, ok := fault.As(err); !ok || fe.Name != fault.DataLimitExceeded {
		t.Fatalf("got %v", err)
	}
	out, _, err := enc.encode(reflect.ValueOf(&s3.GetObjectOutput{Body: io.NopCloser(strings.NewReader("hello"))}))
	if err != nil || value.String(out) != `{"Body":"hello"}` {
		t.Fatalf("got %s, %v", value.String(out), err)
	}
}

// zeros reads as an endless run of '0'.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '0'
	}
	return len(p), nil
}
