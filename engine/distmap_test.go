package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/value"
)

// distMap is a Distributed Map whose children return their input, with
// the extra members of the Map state.
func distMap(extra string) string {
	return `{"StartAt":"M","States":{"M":{"Type":"Map",` + extra + `
		"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},
		"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`
}

func runDef(t *testing.T, cfg engine.Config, def, input string) engine.Result {
	t.Helper()
	return engine.New(cfg).Execute(context.Background(), execution(load(t, def), input), nil)
}

func wantOutput(t *testing.T, res engine.Result, want string) {
	t.Helper()
	if res.Status != engine.StatusSucceeded {
		t.Fatalf("status %s: %s %s", res.Status, str(res.Error), str(res.Cause))
	}
	if *res.Output != want {
		t.Fatalf("output\n%s\nwant\n%s", *res.Output, want)
	}
}

// ItemBatcher: each child gets {"BatchInput", "Items"}, items selected
// first, batches bounded by count and by bytes.
func TestItemBatcher(t *testing.T) {
	for _, tt := range []struct {
		name, extra, input, want string
	}{
		{"count", `"ItemBatcher":{"MaxItemsPerBatch":2},`, `[1,2,3,4,5]`,
			`[{"Items":[1,2]},{"Items":[3,4]},{"Items":[5]}]`},
		{"count path and batch input", `"ItemsPath":"$.xs","ItemBatcher":{"MaxItemsPerBatchPath":"$.n","BatchInput":{"tag.$":"$.tag"}},`,
			`{"xs":["a","b","c"],"n":2,"tag":"T"}`,
			`[{"BatchInput":{"tag":"T"},"Items":["a","b"]},{"BatchInput":{"tag":"T"},"Items":["c"]}]`},
		{"bytes", `"ItemBatcher":{"MaxInputBytesPerBatch":12},`, `["aaa","bbb","ccc"]`, // ["aaa","bbb"] is 13 bytes
			`[{"Items":["aaa"]},{"Items":["bbb"]},{"Items":["ccc"]}]`},
		{"bytes fit", `"ItemBatcher":{"MaxInputBytesPerBatch":13},`, `["aaa","bbb","ccc"]`,
			`[{"Items":["aaa","bbb"]},{"Items":["ccc"]}]`},
		{"item selector first", `"ItemSelector":{"v.$":"$$.Map.Item.Value","i.$":"$$.Map.Item.Index"},"ItemBatcher":{"MaxItemsPerBatch":5},`,
			`[7,8]`, `[{"Items":[{"v":7,"i":0},{"v":8,"i":1}]}]`},
		{"no items", `"ItemBatcher":{"MaxItemsPerBatch":5},`, `[]`, `[]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantOutput(t, runDef(t, engine.Config{}, distMap(tt.extra), tt.input), tt.want)
		})
	}
	t.Run("jsonata", func(t *testing.T) {
		def := `{"QueryLanguage":"JSONata","StartAt":"M","States":{"M":{"Type":"Map","Items":"{% $states.input.xs %}",
			"ItemBatcher":{"MaxItemsPerBatch":"{% $states.input.n %}","BatchInput":{"sum":"{% $sum($states.input.xs) %}"}},
			"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},
			"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`
		wantOutput(t, runDef(t, engine.Config{}, def, `{"xs":[1,2,3],"n":2}`),
			`[{"BatchInput":{"sum":6},"Items":[1,2]},{"BatchInput":{"sum":6},"Items":[3]}]`)
	})
	t.Run("item too large", func(t *testing.T) {
		res := runDef(t, engine.Config{}, distMap(`"ItemBatcher":{"MaxInputBytesPerBatch":4},`), `["toolong"]`)
		if res.Status != engine.StatusFailed || str(res.Error) != fault.Runtime {
			t.Fatalf("status %s, error %s", res.Status, str(res.Error))
		}
	})
}

// fakeItems is an ItemReader handing on fixed items (or failing).
type fakeItems struct {
	items []any
	err   error
	got   *engine.ItemRead
}

func (f *fakeItems) ReadItems(ctx context.Context, r *engine.ItemRead, each func(any) error) error {
	f.got = r
	if f.err != nil {
		return f.err
	}
	for i, it := range f.items {
		if r.MaxItems > 0 && int64(i) >= r.MaxItems {
			break
		}
		if err := each(it); err != nil {
			return err
		}
	}
	return nil
}

// The ItemReader's arguments and MaxItems are evaluated on the state's
// input; its failures fail the Map Run with States.ItemReaderFailed.
func TestItemReader_Port(t *testing.T) {
	reader := `"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON","MaxItemsPath":"$.max"},
		"Parameters":{"Bucket.$":"$.b","Key":"k"}},`
	src := &fakeItems{items: []any{int64(1), int64(2), int64(3)}}
	wantOutput(t, runDef(t, engine.Config{Items: src}, distMap(reader), `{"b":"bkt","max":2}`), `[1,2]`)
	if got := value.String(src.got.Arguments); got != `{"Bucket":"bkt","Key":"k"}` || src.got.MaxItems != 2 {
		t.Fatalf("read %s, MaxItems %d", got, src.got.MaxItems)
	}
	for _, tt := range []struct {
		name  string
		cfg   engine.Config
		input string
		cause string
	}{
		{"negative MaxItems", engine.Config{Items: src}, `{"b":"x","max":-1}`, "field MaxItems must be positive"},
		{"reader error", engine.Config{Items: &fakeItems{err: errors.New("boom")}}, `{"b":"x","max":0}`, "boom"},
		{"no reader", engine.Config{}, `{"b":"x","max":0}`, engine.ErrNoItemStore.Error()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := runDef(t, tt.cfg, distMap(reader), tt.input)
			if res.Status != engine.StatusFailed || str(res.Error) != fault.ItemReaderFailed || str(res.Cause) != tt.cause {
				t.Fatalf("status %s, error %s, cause %s", res.Status, str(res.Error), str(res.Cause))
			}
		})
	}
}

// A ResultWriter with only a WriterConfig returns the children's entries
// as the Map's result: COMPACT their outputs (a failure's error output),
// FLATTEN array outputs flattened, NONE their records.
func TestWriterConfig_NoExport(t *testing.T) {
	const children = `"ToleratedFailureCount":5,"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},
		"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$","IsString":true,"Next":"F"}],"Default":"P"},
		"F":{"Type":"Fail","Error":"E","Cause":"c"},"P":{"Type":"Pass","End":true}}},`
	def := func(tr string) string {
		return `{"StartAt":"M","States":{"M":{"Type":"Map",` + children +
			`"ResultWriter":{"WriterConfig":{"OutputType":"JSON","Transformation":"` + tr + `"}},"End":true}}}`
	}
	wantOutput(t, runDef(t, engine.Config{}, def("COMPACT"), `[[1,2],"x",3]`),
		`[[1,2],{"Error":"E","Cause":"c"},3]`)
	wantOutput(t, runDef(t, engine.Config{}, def("FLATTEN"), `[[1,2],"x",3]`),
		`[1,2,{"Error":"E","Cause":"c"},3]`)
	res := runDef(t, engine.Config{}, def("NONE"), `[[1,2],"x"]`)
	if res.Status != engine.StatusSucceeded {
		t.Fatalf("status %s %s", res.Status, str(res.Cause))
	}
	recs := value.MustParse(*res.Output).([]any)
	ok := recs[0].(*value.Object)
	if got := strings.Join(ok.Keys(), ","); got != "ExecutionArn,Input,InputDetails,Name,Output,OutputDetails,RedriveCount,RedriveStatus,RedriveStatusReason,StartDate,StateMachineArn,Status,StopDate" {
		t.Fatalf("record members %s", got)
	}
	if out, _ := ok.Get("Output"); out != "[1,2]" {
		t.Fatalf("Output %v", out)
	}
	failed := recs[1].(*value.Object)
	if e, _ := failed.Get("Error"); e != "E" {
		t.Fatalf("failed record %s", value.String(failed))
	}
	if st, _ := failed.Get("Status"); st != "FAILED" {
		t.Fatalf("failed record %s", value.String(failed))
	}
}

// TestAppendRecord: the records the ResultWriter writes without building
// them are the bytes of ChildExecution.Record, for every status.
func TestAppendRecord(t *testing.T) {
	start := time.Date(2026, 12, 7, 2, 45, 38, 640123456, time.UTC)
	e, cause := "Boom", "a \"quoted\"\ncause ✓"
	base := engine.ChildExecution{Name: "n", ExecutionARN: "arn:aws:states:us-east-1:1:execution:m/l:n",
		StateMachineARN: "arn:aws:states:us-east-1:1:stateMachine:m/l", Input: `{"a":"<b>\u2028"}`, StartDate: start, StopDate: start.Add(time.Second)}
	for _, status := range []engine.Status{"", engine.StatusSucceeded, engine.StatusFailed, engine.StatusAborted} {
		c := base
		c.Status = status
		switch status {
		case engine.StatusSucceeded:
			c.Output = `[1,"x"]`
		case engine.StatusFailed:
			c.Error, c.Cause = &e, &cause
		}
		want := string(value.Append(nil, c.Record()))
		if got := string(engine.AppendRecord([]byte("x"), &c)); got != "x"+want {
			t.Errorf("%q:\n got %s\nwant x%s", status, got, want)
		}
	}
}
