package asl

import (
	"reflect"
	"testing"

	"github.com/stepwell/stepwell/value"
)

// TestDistributedCompiled checks the compiled ItemReader, ItemBatcher and
// ResultWriter of valid definitions.
func TestDistributedCompiled(t *testing.T) {
	const proc = `"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`
	def := func(ql, fields string) string {
		return `{` + ql + `"StartAt":"M","States":{"M":{"Type":"Map",` + proc + `,` + fields + `,"End":true}}}`
	}
	env := &Env{Input: value.MustParse(`{"b":"bucket","k":"key","n":7}`)}
	tests := []struct {
		name  string
		def   string
		check func(t *testing.T, st *State)
	}{
		{"csv reader", def("", `"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","Parameters":{"Bucket.$":"$.b","Key.$":"$.k"},"ReaderConfig":{"InputType":"CSV","CSVHeaderLocation":"GIVEN","CSVHeaders":["x","y"],"CSVDelimiter":"TAB","MaxItems":5}}`),
			func(t *testing.T, st *State) {
				r := st.Reader
				if r == nil || r.Action != "getObject" || r.InputType != "CSV" || r.CSVHeaderLocation != "GIVEN" ||
					!reflect.DeepEqual(r.CSVHeaders, []string{"x", "y"}) || r.CSVDelimiter != "TAB" || r.MaxItems == nil || *r.MaxItems != 5 {
					t.Fatalf("reader %+v", r)
				}
				got, err := r.Parameters.Eval(env)
				if err != nil || value.String(got) != `{"Bucket":"bucket","Key":"key"}` {
					t.Errorf("parameters %s %v", value.String(got), err)
				}
				if st.ProcessorMode != "DISTRIBUTED" || st.ProcessorExecutionType != "EXPRESS" {
					t.Errorf("processor %s %s", st.ProcessorMode, st.ProcessorExecutionType)
				}
			}},
		{"list reader with path", def("", `"ItemReader":{"Resource":"arn:aws:states:::s3:listObjectsV2","Parameters":{"Bucket":"b"},"ReaderConfig":{"MaxItemsPath":"$.n"}}`),
			func(t *testing.T, st *State) {
				r := st.Reader
				if r.Action != "listObjectsV2" || r.MaxItems != nil || r.MaxItemsPath == nil || r.MaxItemsPath.String() != "$.n" {
					t.Fatalf("reader %+v", r)
				}
			}},
		{"jsonata reader", def(`"QueryLanguage":"JSONata",`, `"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","Arguments":{"Bucket":"{% $states.input.b %}"},"ReaderConfig":{"InputType":"JSONL","MaxItems":"{% 3 %}"}}`),
			func(t *testing.T, st *State) {
				r := st.Reader
				if !r.HasArguments || r.Parameters != nil || r.MaxItemsExpr != "{% 3 %}" || r.MaxItems != nil {
					t.Fatalf("reader %+v", r)
				}
			}},
		{"batcher", def("", `"ItemBatcher":{"MaxItemsPerBatch":10,"MaxInputBytesPerBatchPath":"$.n","BatchInput":{"n.$":"$.n"}}`),
			func(t *testing.T, st *State) {
				b := st.Batcher
				if b == nil || b.MaxItemsPerBatch == nil || *b.MaxItemsPerBatch != 10 || b.MaxInputBytesPerBatchPath == nil {
					t.Fatalf("batcher %+v", b)
				}
				got, err := b.BatchInput.Eval(env)
				if err != nil || value.String(got) != `{"n":7}` {
					t.Errorf("batch input %s %v", value.String(got), err)
				}
			}},
		{"jsonata batcher", def(`"QueryLanguage":"JSONata",`, `"ItemBatcher":{"MaxItemsPerBatch":"{% 2 %}","BatchInput":"{% $states.input %}"}`),
			func(t *testing.T, st *State) {
				b := st.Batcher
				if b.MaxItemsPerBatchExpr != "{% 2 %}" || b.BatchInput.Raw() != "{% $states.input %}" {
					t.Fatalf("batcher %+v", b)
				}
			}},
		{"writer export", def("", `"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"out","Prefix.$":"$.k"},"WriterConfig":{"OutputType":"JSONL","Transformation":"FLATTEN"}}`),
			func(t *testing.T, st *State) {
				w := st.Writer
				if w == nil || w.Resource != "arn:aws:states:::s3:putObject" || w.OutputType != "JSONL" || w.Transformation != "FLATTEN" {
					t.Fatalf("writer %+v", w)
				}
				got, err := w.Parameters.Eval(env)
				if err != nil || value.String(got) != `{"Bucket":"out","Prefix":"key"}` {
					t.Errorf("parameters %s %v", value.String(got), err)
				}
			}},
		{"writer config only", def("", `"ResultWriter":{"WriterConfig":{"OutputType":"JSON","Transformation":"COMPACT"}}`),
			func(t *testing.T, st *State) {
				w := st.Writer
				if w.Resource != "" || w.Parameters != nil || w.OutputType != "JSON" || w.Transformation != "COMPACT" {
					t.Fatalf("writer %+v", w)
				}
			}},
		{"absent", def("", `"Label":"L1"`),
			func(t *testing.T, st *State) {
				if st.Reader != nil || st.Batcher != nil || st.Writer != nil || st.ItemReader != nil || st.Label != "L1" {
					t.Fatalf("state %+v", st)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sm, err := Load([]byte(tc.def), Options{})
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, sm.States["M"])
		})
	}
}

func TestValidLabel(t *testing.T) {
	for _, tc := range []struct {
		label string
		ok    bool
	}{
		{"Map-1_a.b", true},
		{"é日本", true},
		{"", false},
		{"a b", false},
		{"a\tb", false},
		{"a\u2003b", false},
		{"a\u0085b", false},
		{"a/b", true},
		{"x234567890123456789012345678901234567890", true},
		{"x2345678901234567890123456789012345678901", false},
	} {
		if got := validLabel(tc.label); got != tc.ok {
			t.Errorf("validLabel(%q) = %v", tc.label, got)
		}
	}
	for _, c := range "?*<>{}[]:;,\\|^~$#%&`\"" {
		if validLabel("a" + string(c)) {
			t.Errorf("validLabel accepts %q", c)
		}
	}
}
