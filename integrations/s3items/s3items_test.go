package s3items_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/engine"
	awsint "github.com/stepwell/stepwell/integrations/aws"
	"github.com/stepwell/stepwell/integrations/s3items"
	"github.com/stepwell/stepwell/internal/motoserver"
	"github.com/stepwell/stepwell/value"
)

var dummy = aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}

// s3env is a moto_server, an S3 client of the test's own and an engine
// whose Distributed Maps read and write through a Store on it.
type s3env struct {
	s3  *s3.Client
	eng *engine.Engine
}

// isolate keeps the AWS SDK away from the user's files, environment and
// the instance metadata service.
func isolate(t testing.TB) {
	t.Helper()
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func start(t *testing.T) *s3env {
	t.Helper()
	isolate(t)
	url := motoserver.Start(t)
	in, err := awsint.New(awsint.Config{Endpoints: map[string]string{"s3": url}, Region: "us-east-1", Static: &dummy})
	if err != nil {
		t.Fatal(err)
	}
	store := s3items.New(in)
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return dummy, nil })}
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	eng := engine.New(engine.Config{Region: "us-east-1", AccountID: motoserver.AccountID, Items: store, Results: store})
	return &s3env{s3: c, eng: eng}
}

func (e *s3env) bucket(t *testing.T, name string, objects map[string]string) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	for k, body := range objects {
		if _, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(name), Key: aws.String(k), Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
}

func (e *s3env) get(t *testing.T, bucket, key string) string {
	t.Helper()
	out, err := e.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// run executes definition on input and returns its result.
func (e *s3env) run(t *testing.T, definition, input string) engine.Result {
	t.Helper()
	sm, err := asl.Load([]byte(definition), asl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const machine = "arn:aws:states:us-east-1:111111111111:stateMachine:dm"
	x := &engine.Execution{
		ARN: "arn:aws:states:us-east-1:111111111111:execution:dm:run", Name: "run", StateMachineARN: machine,
		StateMachineName: "dm", Type: "STANDARD", Input: input, StartTime: time.Now(), Machine: sm,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return e.eng.Execute(ctx, x, nil)
}

// distributedMap is a Distributed Map over an ItemReader (readerJSON) whose
// items a Pass state returns.
func distributedMap(reader string, extra string) string {
	return `{"StartAt":"Map","States":{"Map":{"Type":"Map",` + extra + `"ItemReader":` + reader + `,
		"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},
		"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`
}

func output(t *testing.T, r engine.Result) string {
	t.Helper()
	if r.Status != engine.StatusSucceeded || r.Output == nil {
		t.Fatalf("status %s, error %v, cause %v", r.Status, deref(r.Error), deref(r.Cause))
	}
	return *r.Output
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// Each reader over a real S3 (moto_server): CSV with and without a header
// row, JSON (with ItemsPointer), JSONL, listObjectsV2 with a prefix, and
// MaxItems.
func TestReaders(t *testing.T) {
	e := start(t)
	e.bucket(t, "items-in", map[string]string{
		"h.csv":          "id,name\n1,ann\n2,bob\n",
		"n.csv":          "1;ann\n2;bob\n",
		"a.json":         `[{"n":1},{"n":2},{"n":3}]`,
		"p.json":         `{"meta":{},"data":{"rows":[10,20]}}`,
		"l.jsonl":        "{\"n\":1}\n{\"n\":2}\n",
		"logs/2024/a.gz": "aaaa",
		"logs/2024/b.gz": "bb",
		"other/c":        "c",
	})
	get := func(key, config string) string {
		return `{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":` + config + `,"Parameters":{"Bucket":"items-in","Key":"` + key + `"}}`
	}
	for _, tt := range []struct {
		name, reader, want string
	}{
		{"csv first row", get("h.csv", `{"InputType":"CSV","CSVHeaderLocation":"FIRST_ROW"}`),
			`[{"name":"ann","id":"1"},{"name":"bob","id":"2"}]`}, // AWS's (Java HashMap) member order
		{"csv given", get("n.csv", `{"InputType":"CSV","CSVHeaderLocation":"GIVEN","CSVHeaders":["id","name"],"CSVDelimiter":"SEMICOLON"}`),
			`[{"name":"ann","id":"1"},{"name":"bob","id":"2"}]`},
		{"json max items", get("a.json", `{"InputType":"JSON","MaxItems":2}`), `[{"n":1},{"n":2}]`},
		{"json pointer", get("p.json", `{"InputType":"JSON","ItemsPointer":"/data/rows"}`), `[10,20]`},
		{"jsonl", get("l.jsonl", `{"InputType":"JSONL"}`), `[{"n":1},{"n":2}]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := output(t, e.run(t, distributedMap(tt.reader, ""), `{}`)); got != tt.want {
				t.Fatalf("output %s, want %s", got, tt.want)
			}
		})
	}
	t.Run("listObjectsV2", func(t *testing.T) {
		reader := `{"Resource":"arn:aws:states:::s3:listObjectsV2","Parameters":{"Bucket":"items-in","Prefix":"logs/"}}`
		def := distributedMap(reader, `"ItemSelector":{"Key.$":"$$.Map.Item.Value.Key","Size.$":"$$.Map.Item.Value.Size"},`)
		want := `[{"Key":"logs/2024/a.gz","Size":4},{"Key":"logs/2024/b.gz","Size":2}]`
		if got := output(t, e.run(t, def, `{}`)); got != want {
			t.Fatalf("output %s, want %s", got, want)
		}
	})
	t.Run("missing key", func(t *testing.T) {
		r := e.run(t, distributedMap(get("nope.json", `{"InputType":"JSON"}`), ""), `{}`)
		if r.Status != engine.StatusFailed || deref(r.Error) != "States.ItemReaderFailed" || !strings.Contains(deref(r.Cause), "Status Code: 404") {
			t.Fatalf("status %s, error %s, cause %s", r.Status, deref(r.Error), deref(r.Cause))
		}
	})
}

// A ResultWriter writes AWS's files: manifest.json listing
// SUCCEEDED_0.json and FAILED_0.json (failures tolerated), each a JSON
// array of child execution records; the Map's output names the manifest.
func TestResultWriter(t *testing.T) {
	e := start(t)
	e.bucket(t, "results-out", nil)
	def := `{"StartAt":"Map","States":{"Map":{"Type":"Map","ToleratedFailurePercentage":100,"Label":"Jobs",
		"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},
		"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$","NumericEquals":2,"Next":"F"}],"Default":"P"},
		"F":{"Type":"Fail","Error":"Two","Cause":"two is bad"},"P":{"Type":"Pass","End":true}}},
		"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"results-out","Prefix":"runs"}},"End":true}}}`
	out := value.MustParse(output(t, e.run(t, def, `[1,2,3]`))).(*value.Object)
	runARN, _ := out.Get("MapRunArn")
	arn, _ := runARN.(string)
	if !strings.HasPrefix(arn, "arn:aws:states:us-east-1:111111111111:mapRun:dm/Jobs:") {
		t.Fatalf("MapRunArn %q", arn)
	}
	id := arn[strings.LastIndexByte(arn, ':')+1:]
	details, _ := out.Get("ResultWriterDetails")
	if got, want := value.String(details), `{"Bucket":"results-out","Key":"runs/`+id+`/manifest.json"}`; got != want {
		t.Fatalf("ResultWriterDetails %s, want %s", got, want)
	}
	manifest := value.MustParse(e.get(t, "results-out", "runs/"+id+"/manifest.json")).(*value.Object)
	succeeded := e.get(t, "results-out", "runs/"+id+"/SUCCEEDED_0.json")
	failed := e.get(t, "results-out", "runs/"+id+"/FAILED_0.json")
	wantManifest := `{"DestinationBucket":"results-out","MapRunArn":"` + arn + `","ResultFiles":{"FAILED":[{"Key":"runs/` + id +
		`/FAILED_0.json","Size":` + itoa(len(failed)) + `}],"PENDING":[],"SUCCEEDED":[{"Key":"runs/` + id +
		`/SUCCEEDED_0.json","Size":` + itoa(len(succeeded)) + `}]}}`
	if got := value.String(manifest); got != wantManifest {
		t.Fatalf("manifest\n%s\nwant\n%s", got, wantManifest)
	}
	recs := value.MustParse(succeeded).([]any)
	if len(recs) != 2 {
		t.Fatalf("SUCCEEDED_0.json has %d records: %s", len(recs), succeeded)
	}
	r0 := recs[0].(*value.Object)
	if got := strings.Join(r0.Keys(), ","); got != "ExecutionArn,Input,InputDetails,Name,Output,OutputDetails,RedriveCount,RedriveStatus,RedriveStatusReason,StartDate,StateMachineArn,Status,StopDate" {
		t.Fatalf("record members %s", got)
	}
	for k, want := range map[string]string{"Input": `"1"`, "Output": `"1"`, "Status": `"SUCCEEDED"`,
		"StateMachineArn": `"arn:aws:states:us-east-1:111111111111:stateMachine:dm/Jobs"`} {
		if v, _ := r0.Get(k); value.String(v) != want {
			t.Errorf("record %s = %s, want %s", k, value.String(v), want)
		}
	}
	name, _ := r0.Get("Name")
	if ea, _ := r0.Get("ExecutionArn"); ea != "arn:aws:states:us-east-1:111111111111:execution:dm/Jobs:"+name.(string) {
		t.Errorf("ExecutionArn %v, Name %v", ea, name)
	}
	f0 := value.MustParse(failed).([]any)[0].(*value.Object)
	for k, want := range map[string]string{"Error": `"Two"`, "Cause": `"two is bad"`, "Input": `"2"`, "Status": `"FAILED"`} {
		if v, _ := f0.Get(k); value.String(v) != want {
			t.Errorf("failed record %s = %s, want %s", k, value.String(v), want)
		}
	}
	if !bytes.Contains([]byte(failed), []byte(`"StartDate":"20`)) {
		t.Errorf("failed record has no StartDate: %s", failed)
	}
}

func itoa(n int) string { return value.String(int64(n)) }

// WriterConfig with an export: JSON Lines of the children's outputs
// (COMPACT), or of their array outputs flattened (FLATTEN).
func TestResultWriter_WriterConfig(t *testing.T) {
	e := start(t)
	e.bucket(t, "results-cfg", nil)
	for _, tt := range []struct{ tr, want string }{
		{"COMPACT", "[1,2]\n3\n"},
		{"FLATTEN", "1\n2\n3\n"},
	} {
		t.Run(tt.tr, func(t *testing.T) {
			def := `{"StartAt":"Map","States":{"Map":{"Type":"Map","MaxConcurrency":1,
				"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},
				"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"results-cfg","Prefix":"` + tt.tr + `"},
				"WriterConfig":{"OutputType":"JSONL","Transformation":"` + tt.tr + `"}},"End":true}}}`
			out := value.MustParse(output(t, e.run(t, def, `[[1,2],3]`))).(*value.Object)
			details, _ := out.Get("ResultWriterDetails")
			key, _ := details.(*value.Object).Get("Key")
			dir := strings.TrimSuffix(key.(string), "manifest.json")
			if got := e.get(t, "results-cfg", dir+"SUCCEEDED_0.json"); got != tt.want {
				t.Fatalf("SUCCEEDED_0.json %q, want %q", got, tt.want)
			}
		})
	}
}

// An ItemReader's items exported by a ResultWriter stream through
// (engine/diststream.go): every child's record reaches its file, failures
// are tolerated up to the threshold, and a run past it fails without an
// export.
func TestStreamedRun(t *testing.T) {
	e := start(t)
	var lines strings.Builder
	for i := 0; i < 50; i++ {
		bad := i%10 == 3
		lines.WriteString(`{"n":` + itoa(i) + `,"bad":` + map[bool]string{true: "true", false: "false"}[bad] + "}\n")
	}
	e.bucket(t, "stream-in", map[string]string{"items.jsonl": lines.String()})
	e.bucket(t, "stream-out", nil)
	def := func(tolerated int, prefix string) string {
		return `{"StartAt":"Map","States":{"Map":{"Type":"Map","MaxConcurrency":5,"ToleratedFailureCount":` + itoa(tolerated) + `,
			"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSONL"},"Parameters":{"Bucket":"stream-in","Key":"items.jsonl"}},
			"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},
			"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.bad","BooleanEquals":true,"Next":"F"}],"Default":"P"},
			"F":{"Type":"Fail","Error":"Bad","Cause":"bad item"},"P":{"Type":"Pass","OutputPath":"$.n","End":true}}},
			"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"stream-out","Prefix":"` + prefix + `"}},"End":true}}}`
	}
	out := value.MustParse(output(t, e.run(t, def(5, "ok"), `{}`))).(*value.Object)
	details, _ := out.Get("ResultWriterDetails")
	key, _ := details.(*value.Object).Get("Key")
	dir := strings.TrimSuffix(key.(string), "manifest.json")
	succeeded := value.MustParse(e.get(t, "stream-out", dir+"SUCCEEDED_0.json")).([]any)
	failed := value.MustParse(e.get(t, "stream-out", dir+"FAILED_0.json")).([]any)
	if len(succeeded) != 45 || len(failed) != 5 {
		t.Fatalf("%d succeeded and %d failed records, want 45 and 5", len(succeeded), len(failed))
	}
	seen := make(map[string]bool)
	for _, r := range succeeded {
		o, _ := r.(*value.Object).Get("Output")
		seen[o.(string)] = true
	}
	for i := 0; i < 50; i++ {
		if i%10 != 3 && !seen[itoa(i)] {
			t.Fatalf("no record of item %d", i)
		}
	}
	manifest := e.get(t, "stream-out", key.(string))
	if !strings.Contains(manifest, `"FAILED":[{"Key":"`+dir+`FAILED_0.json"`) || !strings.Contains(manifest, `"PENDING":[]`) {
		t.Fatalf("manifest %s", manifest)
	}

	r := e.run(t, def(2, "over"), `{}`)
	if r.Status != engine.StatusFailed || deref(r.Error) != "States.ExceedToleratedFailureThreshold" {
		t.Fatalf("status %s, error %s, cause %s", r.Status, deref(r.Error), deref(r.Cause))
	}
	list, err := e.s3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("stream-out"), Prefix: aws.String("over/")})
	if err != nil || len(list.Contents) != 0 {
		t.Fatalf("a failed run exported %d objects (%v)", len(list.Contents), err)
	}
}

// InputType MANIFEST reads an S3 Inventory report: its manifest.json
// names CSV files (gzipped or not) in its destination bucket, whose rows
// are items named by fileSchema.
func TestManifestReader(t *testing.T) {
	e := start(t)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte("\"src\",\"a/1.txt\",\"10\"\n\"src\",\"a/2.txt\",\"20\"\n"))
	_ = zw.Close()
	manifest := `{"sourceBucket":"src","destinationBucket":"arn:aws:s3:::inventory-dest","version":"2016-11-30",
		"fileFormat":"CSV","fileSchema":"Bucket, Key, Size",
		"files":[{"key":"inv/data/one.csv.gz","size":1},{"key":"inv/data/two.csv","size":1}]}`
	e.bucket(t, "inventory-dest", map[string]string{
		"inv/manifest.json": manifest, "inv/data/one.csv.gz": gz.String(), "inv/data/two.csv": "src,b/3.txt,30\n",
	})
	reader := `{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"MANIFEST"},
		"Parameters":{"Bucket":"inventory-dest","Key":"inv/manifest.json"}}`
	want := `[{"Bucket":"src","Key":"a/1.txt","Size":"10"},{"Bucket":"src","Key":"a/2.txt","Size":"20"},{"Bucket":"src","Key":"b/3.txt","Size":"30"}]`
	if got := output(t, e.run(t, distributedMap(reader, ""), `{}`)); got != want {
		t.Fatalf("output %s, want %s", got, want)
	}
}
