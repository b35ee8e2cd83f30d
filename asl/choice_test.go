package asl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stepwell/stepwell/value"
)

const casesDir = "../../shared/conformance/cases"

// TestChoiceConformance loads every recorded choice_operators case, matches
// its first Choice state against the case input and checks that the branch
// AWS took (named in the expected output) is the one the rules select.
func TestChoiceConformance(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(casesDir, "choice_operators.*.json"))
	if len(files) == 0 {
		t.Skip("conformance cases not available")
	}
	pass := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := value.Parse(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		co := c.(*value.Object)
		name, _ := co.Get("name")
		def, _ := co.Get("definition")
		input, _ := co.Get("input")
		exp, _ := co.Get("expected")
		out, _ := exp.(*value.Object).Get("output")
		want, _ := out.(*value.Object).Get("TestResult.$")
		sm, err := Load(value.Marshal(def), Options{})
		if err != nil {
			t.Errorf("%s: load: %v", name, err)
			continue
		}
		st := sm.States[sm.StartAt]
		env := &Env{Input: input, StateName: st.Name, EnteredEventID: 2}
		got := st.Default
		for _, r := range st.Choices {
			m, err := r.Match(env)
			if err != nil {
				got = "error: " + err.Error()
				break
			}
			if m {
				got = r.Next
				break
			}
		}
		if got != want {
			t.Errorf("%s: input %s: got %s, want %s", name, value.String(input), got, want)
			continue
		}
		pass++
	}
	t.Logf("%d/%d choice_operators cases match", pass, len(files))
}

func TestStringMatches(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"foo*.log", "foo23.log", true},
		{"*.log", "zebra.log", true},
		{"foo*.*", "foobar.zebra", true},
		{"foo*.log", "foo23.txt", false},
		{"*", "", true},
		{"a*b*c", "abc", true},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "acb", false},
		{`a\*b`, "a*b", true},
		{`a\*b`, "aXb", false},
		{`a\\b`, `a\b`, true},
		{"abc", "abc", true},
		{"abc", "abcd", false},
		{"*abc", "ababc", true},
		{"abc*", "ab", false},
		{"**", "x", true},
		{"a*a", "a", false},
	}
	for _, tt := range tests {
		p, _ := compilePattern(tt.pattern)
		if got := p.match(tt.s); got != tt.want {
			t.Errorf("%q matches %q = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
		if got := forceKMP(p).match(tt.s); got != tt.want {
			t.Errorf("%q matches %q = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestParseTimestamp(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"2016-03-14T01:59:00Z", true},
		{"2016-03-14T01:59:00.00Z", true},
		{"2016-03-14T01:59:00.000000Z", true},
		{"2016-03-14T01:59:00+01:00", true},
		{"2016-03-14T01:59:00-08:30", true},
		{"2016-03-14T01:59:00", false},
		{"2016-03-14T01:59:00.000000", false},
		{"2016-03-14 01:59:00Z", false},
		{"2016-03-14t01:59:00Z", false},
		{"2016-13-05T21:29:29Z", false},
		{"2016-12-05T25:29:29Z", false},
		{"2016-02-30T01:00:00Z", false},
		{"2016-02-29T01:00:00Z", true},
		{"05-12-2016T21:29:29Z", false},
		{"2023-02-24", false},
		{"", false},
	}
	for _, tt := range tests {
		if _, got := parseTimestamp(tt.s); got != tt.want {
			t.Errorf("parseTimestamp(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
	a, _ := parseTimestamp("2016-03-14T02:59:00+01:00")
	b, _ := parseTimestamp("2016-03-14T01:59:00Z")
	if !a.Equal(b) {
		t.Errorf("offsets: %v != %v", a, b)
	}
	if strings.Contains(a.String(), "+01") {
		t.Errorf("timestamp not normalised to UTC: %v", a)
	}
}

func TestChoiceRules(t *testing.T) {
	input := value.MustParse(`{"s":"abc","n":5,"f":2.5,"b":true,"t":"2020-01-01T00:00:00Z","t2":"2021-01-01T00:00:00+01:00","nul":null,"arr":[1]}`)
	env := &Env{Input: input, Context: value.MustParse(`{"x":5}`), Vars: mapVars{"v": "abc"}, StateName: "C", EnteredEventID: 2}
	tests := []struct {
		rule string
		want bool
		err  string
	}{
		{`{"Variable":"$.s","StringEquals":"abc"}`, true, ""},
		{`{"Variable":"$.s","StringLessThan":"abd"}`, true, ""},
		{`{"Variable":"$.s","StringGreaterThanEquals":"abc"}`, true, ""},
		{`{"Variable":"$.s","StringEqualsPath":"$v"}`, true, ""},
		{`{"Variable":"$.n","NumericEquals":5.0}`, true, ""},
		{`{"Variable":"$.n","NumericEqualsPath":"$$.x"}`, true, ""},
		{`{"Variable":"$.f","NumericLessThan":3}`, true, ""},
		{`{"Variable":"$.s","NumericLessThan":3}`, false, ""},
		{`{"Variable":"$.b","BooleanEquals":true}`, true, ""},
		{`{"Variable":"$.t","TimestampLessThanPath":"$.t2"}`, true, ""},
		{`{"Variable":"$.t2","TimestampEquals":"2020-12-31T23:00:00Z"}`, true, ""},
		{`{"Variable":"$.s","TimestampEquals":"2020-12-31T23:00:00Z"}`, false, ""},
		{`{"Variable":"$.t","IsTimestamp":true}`, true, ""},
		{`{"Variable":"$.missing","IsPresent":false}`, true, ""},
		{`{"Variable":"$.missing","IsNull":true}`, false, ""},
		{`{"Variable":"$.nul","IsNull":true}`, true, ""},
		{`{"Variable":"$.s","StringMatches":"a*"}`, true, ""},
		{`{"And":[{"Variable":"$.n","NumericGreaterThan":1},{"Variable":"$.s","StringEquals":"x"}]}`, false, ""},
		{`{"Or":[{"Variable":"$.n","NumericGreaterThan":10},{"Variable":"$.s","StringEquals":"abc"}]}`, true, ""},
		{`{"Not":{"Variable":"$.n","NumericGreaterThan":10}}`, true, ""},
		{`{"Or":[{"Variable":"$.s","StringEquals":"abc"},{"Variable":"$.missing","StringEquals":"x"}]}`, true, ""},
		{`{"Variable":"$.missing","StringEquals":"x"}`, false,
			"States.Runtime: An error occurred while executing the state 'C' (entered at the event id #2). Invalid path '$.missing' : No results for path: $['missing']"},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			r := strings.TrimSuffix(tt.rule, "}") + `,"Next":"E"}`
			def := `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[` + r + `],"Default":"E"},"E":{"Type":"Succeed"}}}`
			sm, err := Load([]byte(def), Options{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := sm.States["C"].Choices[0].Match(env)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Match = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}
