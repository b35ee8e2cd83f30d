package s3items

import (
	"bufio"
	"errors"
	"strings"
	"testing"

	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/value"
)

// collect runs a decoder over text and returns its items as JSON texts.
func collect(t *testing.T, read func(each func(any) error) error) ([]string, error) {
	t.Helper()
	var out []string
	err := read(func(v any) error {
		out = append(out, value.String(v))
		return nil
	})
	return out, err
}

// cause returns err's States.ItemReaderFailed cause, failing otherwise.
func cause(t *testing.T, err error) string {
	t.Helper()
	fe, ok := fault.As(err)
	if !ok || fe.Name != fault.ItemReaderFailed {
		t.Fatalf("error %v is not %s", err, fault.ItemReaderFailed)
	}
	return fe.Cause
}

// The CSV texts and items of the conformance corpus's ItemReader cases
// (recorded on AWS): members in AWS's (Java HashMap) order, extra fields
// dropped, missing ones empty.
func TestReadCSV(t *testing.T) {
	const body = "Value1,Value2,Value3\nValue4,Value5,Value6\n,,,\ntrue,1,'HelloWorld'\nNull,None,\n   \n"
	for _, tt := range []struct {
		name     string
		text     string
		location string
		given    []string
		sep      rune
		want     []string
		cause    string
	}{
		{name: "given", text: body, location: "GIVEN", given: []string{"H1", "H2", "H3"}, sep: ',', want: []string{
			`{"H1":"Value1","H2":"Value2","H3":"Value3"}`, `{"H1":"Value4","H2":"Value5","H3":"Value6"}`,
			`{"H1":"","H2":"","H3":""}`, `{"H1":"true","H2":"1","H3":"'HelloWorld'"}`,
			`{"H1":"Null","H2":"None","H3":""}`, `{"H1":"   ","H2":"","H3":""}`}},
		{name: "first row, extra fields", text: "H1,\nValue4,Value5,Value6\n,,,\n   \n", sep: ',', want: []string{
			`{"":"Value5","H1":"Value4"}`, `{"":"","H1":""}`, `{"":"","H1":"   "}`}},
		{name: "first row, typed headers", text: "0,True,{}\nValue4,Value5,Value6\n", sep: ',', want: []string{
			`{"0":"Value4","{}":"Value6","True":"Value5"}`}},
		{name: "first row only", text: "Col1,Col2\n", sep: ',', want: nil},
		{name: "empty", text: "", sep: ',', want: nil},
		{name: "pipe", text: "a|b\n1|2\n", sep: '|', want: []string{`{"a":"1","b":"2"}`}},
		{name: "quoted", text: "a,b\n\"x,y\",\"say \"\"hi\"\"\"\n", sep: ',', want: []string{`{"a":"x,y","b":"say \"hi\""}`}},
		{name: "duplicate first row", text: "a,a\n1,2\n", sep: ',', cause: causeDuplicateHeaders},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := collect(t, func(each func(any) error) error {
				return readCSV(strings.NewReader(tt.text), tt.location, tt.given, tt.sep, each)
			})
			if tt.cause != "" {
				if c := cause(t, err); c != tt.cause {
					t.Fatalf("cause %q, want %q", c, tt.cause)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("items\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestReadJSON(t *testing.T) {
	for _, tt := range []struct {
		name, text, pointer string
		want                []string
		cause               string
	}{
		{name: "array", text: `[{"a":1},[2],"x",1.50,null]`, want: []string{`{"a":1}`, `[2]`, `"x"`, `1.5`, `null`}},
		{name: "empty array", text: ` [ ] `, want: nil},
		{name: "object", text: `{"Hello": "world"}`, cause: causeNotIterable},
		{name: "scalar", text: `12`, cause: causeNotIterable},
		{name: "pointer", text: `{"skip":{"a":[1]},"data":{"rows":[1,2]}}`, pointer: "/data/rows", want: []string{"1", "2"}},
		{name: "pointer into array", text: `{"d":[[0],[1,2]]}`, pointer: "/d/1", want: []string{"1", "2"}},
		{name: "pointer escapes", text: `{"a/b":{"c~d":[true]}}`, pointer: "/a~1b/c~0d", want: []string{"true"}},
		{name: "pointer missing", text: `{"data":[1]}`, pointer: "/nope", cause: causeNotIterable},
		{name: "pointer to object", text: `{"data":{"x":1}}`, pointer: "/data", cause: causeNotIterable},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := collect(t, func(each func(any) error) error {
				return readJSON(strings.NewReader(tt.text), tt.pointer, each)
			})
			if tt.cause != "" {
				if c := cause(t, err); c != tt.cause {
					t.Fatalf("cause %q, want %q", c, tt.cause)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("items %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReadJSONL(t *testing.T) {
	long := strings.Repeat("x", 200000) // longer than the reader's buffer
	got, err := collect(t, func(each func(any) error) error {
		text := "{\"a\":1}\n\n  [2]  \r\n\"" + long + "\"\n3"
		return readJSONL(bufio.NewReaderSize(strings.NewReader(text), 16), each)
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`{"a":1}`, `[2]`, `"` + long + `"`, `3`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("items %.80q…, want %.80q…", got, want)
	}
	_, err = collect(t, func(each func(any) error) error {
		return readJSONL(bufio.NewReader(strings.NewReader("[1]\n{oops\n")), each)
	})
	if c := cause(t, err); !strings.HasPrefix(c, "Invalid JSON line") {
		t.Fatalf("cause %q", c)
	}
}

// A decoder stops at the first error of each and returns it.
func TestDecoders_StopOnError(t *testing.T) {
	stop := errors.New("stop")
	for name, read := range map[string]func(func(any) error) error{
		"csv":   func(each func(any) error) error { return readCSV(strings.NewReader("a\n1\n2\n"), "", nil, ',', each) },
		"json":  func(each func(any) error) error { return readJSON(strings.NewReader("[1,2]"), "", each) },
		"jsonl": func(each func(any) error) error { return readJSONL(bufio.NewReader(strings.NewReader("1\n2\n")), each) },
	} {
		n := 0
		err := read(func(any) error { n++; return stop })
		if !errors.Is(err, stop) || n != 1 {
			t.Errorf("%s: err %v after %d items, want stop after 1", name, err, n)
		}
	}
}

func TestJavaOrder(t *testing.T) {
	for _, tt := range []struct {
		headers []string
		want    []int
	}{
		{[]string{"0", "True", "{}"}, []int{0, 2, 1}},
		{[]string{"H1", ""}, []int{1, 0}},
		{[]string{"H1", "H2", "H3"}, []int{0, 1, 2}},
		{nil, []int{}},
	} {
		got := javaOrder(tt.headers)
		if len(got) != len(tt.want) {
			t.Fatalf("%q: %v, want %v", tt.headers, got, tt.want)
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Fatalf("%q: %v, want %v", tt.headers, got, tt.want)
			}
		}
	}
	if h := javaHash("True"); h != 2615726 {
		t.Fatalf(`javaHash("True") = %d, want 2615726`, h)
	}
}

func FuzzReadJSON(f *testing.F) {
	for _, s := range []string{`[1,{"a":[2]}]`, `{"a":{"b":[1]}}`, `[`, `{"a":`, `[1,]`} {
		f.Add(s, "/a/b")
	}
	f.Fuzz(func(t *testing.T, text, pointer string) {
		_ = readJSON(strings.NewReader(text), pointer, func(v any) error {
			if _, err := value.ParseString(value.String(v)); err != nil {
				t.Fatalf("item %s does not round-trip: %v", value.String(v), err)
			}
			return nil
		})
	})
}

func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "a,a\n", "\"x\n", "a\n\"b\"\"c\",d,e\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		_ = readCSV(strings.NewReader(text), "FIRST_ROW", nil, ',', func(v any) error {
			if _, ok := v.(*value.Object); !ok {
				t.Fatalf("item %T is not an object", v)
			}
			return nil
		})
	})
}
