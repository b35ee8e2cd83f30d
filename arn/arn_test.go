package arn_test

import (
	"strings"
	"testing"

	"github.com/stepwell/stepwell/arn"
)

func TestParse_RoundTrip(t *testing.T) {
	tests := []struct {
		in   string
		want arn.ARN
	}{
		{"arn:aws:states:us-east-1:123456789012:stateMachine:sm",
			arn.ARN{Partition: "aws", Region: "us-east-1", Account: "123456789012", Type: arn.StateMachine, StateMachine: "sm"}},
		{"arn:aws:states:us-east-1:123456789012:stateMachine:sm:12",
			arn.ARN{Partition: "aws", Region: "us-east-1", Account: "123456789012", Type: arn.StateMachine, StateMachine: "sm", Qualifier: "12"}},
		{"arn:aws:states:us-east-1:123456789012:stateMachine:sm:prod",
			arn.ARN{Partition: "aws", Region: "us-east-1", Account: "123456789012", Type: arn.StateMachine, StateMachine: "sm", Qualifier: "prod"}},
		{"arn:aws:states:us-east-1:123456789012:stateMachine:sm/map",
			arn.ARN{Partition: "aws", Region: "us-east-1", Account: "123456789012", Type: arn.StateMachine, StateMachine: "sm", Label: "map"}},
		{"arn:aws:states:us-east-1:123456789012:execution:sm:run-1",
			arn.ARN{Partition: "aws", Region: "us-east-1", Account: "123456789012", Type: arn.Execution, StateMachine: "sm", Name: "run-1"}},
		{"arn:aws:states:us-east-1:123456789012:execution:sm/map:5e0c",
			arn.ARN{Partition: "aws", Region: "us-east-1", Account: "123456789012", Type: arn.Execution, StateMachine: "sm", Label: "map", Name: "5e0c"}},
		{"arn:aws:states:us-east-1:123456789012:express:sm:run:0d3c-11",
			arn.ARN{Partition: "aws", Region: "us-east-1", Account: "123456789012", Type: arn.Express, StateMachine: "sm", Name: "run", ID: "0d3c-11"}},
		{"arn:aws:states:us-east-1:123456789012:activity:act",
			arn.ARN{Partition: "aws", Region: "us-east-1", Account: "123456789012", Type: arn.Activity, Name: "act"}},
		{"arn:aws:states:us-east-1:123456789012:mapRun:sm/map:abc",
			arn.ARN{Partition: "aws", Region: "us-east-1", Account: "123456789012", Type: arn.MapRun, StateMachine: "sm", Label: "map", ID: "abc"}},
		{"arn:aws-cn:states:cn-north-1:1:stateMachine:x",
			arn.ARN{Partition: "aws-cn", Region: "cn-north-1", Account: "1", Type: arn.StateMachine, StateMachine: "x"}},
	}
	for _, tt := range tests {
		got, err := arn.Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		if s := got.String(); s != tt.in {
			t.Errorf("String() = %q, want %q", s, tt.in)
		}
	}
}

func TestParse_Invalid(t *testing.T) {
	for _, in := range []string{
		"", "arn", "foo:aws:states:r:a:stateMachine:x", "arn:aws:lambda:r:a:function:x",
		"arn:aws:states:r:a:stateMachine", "arn:aws:states:r:a:stateMachine:", "arn:aws:states:r:a:stateMachine:x:",
		"arn:aws:states:r:a:stateMachine:x:1:2", "arn:aws:states:r:a:execution:x", "arn:aws:states:r:a:execution:x:",
		"arn:aws:states:r:a:express:x:y", "arn:aws:states:r:a:activity:", "arn:aws:states:r:a:activity:a:b",
		"arn:aws:states:r:a:mapRun:x:y", "arn:aws:states:r:a:table:x", "arn::states:r:a:stateMachine:x",
		"arn:aws:states::a:stateMachine:x", "arn:aws:states:r::stateMachine:x",
	} {
		_, err := arn.Parse(in)
		if err == nil {
			t.Errorf("Parse(%q) succeeded", in)
			continue
		}
		if want := "Invalid ARN prefix: " + in; err.Error() != want {
			t.Errorf("Parse(%q) error %q, want %q", in, err, want)
		}
	}
}

func TestQualifiers(t *testing.T) {
	tests := []struct {
		in      string
		version int64
		isVer   bool
		isAlias bool
	}{
		{"arn:aws:states:r:a:stateMachine:sm", 0, false, false},
		{"arn:aws:states:r:a:stateMachine:sm:3", 3, true, false},
		{"arn:aws:states:r:a:stateMachine:sm:0", 0, false, true},
		{"arn:aws:states:r:a:stateMachine:sm:live", 0, false, true},
		{"arn:aws:states:r:a:execution:sm:3", 0, false, false},
	}
	for _, tt := range tests {
		a, err := arn.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		v, ok := a.Version()
		if v != tt.version || ok != tt.isVer || a.IsAlias() != tt.isAlias {
			t.Errorf("%s: Version()=%d,%v IsAlias()=%v", tt.in, v, ok, a.IsAlias())
		}
		if m := a.Machine().String(); m != "arn:aws:states:r:a:stateMachine:sm" {
			t.Errorf("%s: Machine() = %s", tt.in, m)
		}
	}
}

func TestScope(t *testing.T) {
	s := arn.Scope{Partition: "aws", Region: "us-east-1", Account: "111111111111"}
	for _, tt := range []struct{ got, want string }{
		{s.StateMachineARN("m"), "arn:aws:states:us-east-1:111111111111:stateMachine:m"},
		{s.ExecutionARN("m", "e"), "arn:aws:states:us-east-1:111111111111:execution:m:e"},
		{s.ExpressARN("m", "e", "u"), "arn:aws:states:us-east-1:111111111111:express:m:e:u"},
		{s.ActivityARN("a"), "arn:aws:states:us-east-1:111111111111:activity:a"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %s, want %s", tt.got, tt.want)
		}
	}
}

func TestValidName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"a", true}, {"my-state_machine.1", true}, {"héllo", true}, {"日本", true}, {"(ok)!@'=+", true},
		{strings.Repeat("a", 80), true}, {strings.Repeat("é", 80), true},
		{"", false}, {strings.Repeat("a", 81), false}, {"a b", false}, {"a\tb", false}, {"a\u0085b", false},
		{"a\u3000b", false}, {"a\uFFFF", false}, {"\xff", false},
		{"a<", false}, {"a>", false}, {"{", false}, {"}", false}, {"[", false}, {"]", false}, {"?", false},
		{"*", false}, {`"`, false}, {"#", false}, {"%", false}, {`\`, false}, {"^", false}, {"|", false},
		{"~", false}, {"`", false}, {"$", false}, {"&", false}, {",", false}, {";", false}, {":", false}, {"/", false},
		{"\x00", false}, {"\x7f", false},
	}
	for _, tt := range tests {
		if got := arn.ValidName(tt.name); got != tt.ok {
			t.Errorf("ValidName(%q) = %v, want %v", tt.name, got, tt.ok)
		}
	}
}

func TestValidAliasName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"prod", true}, {"v1.2-beta_x", true}, {"1a", true}, {"123", false}, {"", false}, {"a b", false},
		{strings.Repeat("a", 81), false}, {"é", false},
	}
	for _, tt := range tests {
		if got := arn.ValidAliasName(tt.name); got != tt.ok {
			t.Errorf("ValidAliasName(%q) = %v, want %v", tt.name, got, tt.ok)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"arn:aws:states:us-east-1:1:stateMachine:sm:1", "arn:aws:states:r:a:express:a:b:c",
		"arn:aws:states:r:a:mapRun:sm/l:id", "arn:aws:states:r:a:activity:x", "arn:",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := arn.Parse(s)
		if err != nil {
			return
		}
		if got := a.String(); got != s {
			// Labels may contain '/', which String keeps; anything else must round-trip.
			b, err := arn.Parse(got)
			if err != nil || b != a {
				t.Fatalf("Parse(%q) = %+v, String() = %q does not round-trip", s, a, got)
			}
		}
		_ = arn.ValidName(a.Name) // must not panic
	})
}

// TestScopeWithDefaults: the empty fields of a scope take the defaults,
// the others are kept.
func TestScopeWithDefaults(t *testing.T) {
	for _, tt := range []struct{ in, want arn.Scope }{
		{arn.Scope{}, arn.Scope{"aws", "us-east-1", "123456789012"}},
		{arn.Scope{Region: "eu-west-3"}, arn.Scope{"aws", "eu-west-3", "123456789012"}},
		{arn.Scope{"aws-cn", "cn-north-1", "111111111111"}, arn.Scope{"aws-cn", "cn-north-1", "111111111111"}},
	} {
		if got := tt.in.WithDefaults(); got != tt.want {
			t.Errorf("%+v.WithDefaults() = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}
