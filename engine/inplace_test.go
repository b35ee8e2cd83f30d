package engine

import (
	"context"
	"testing"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/value"
)

// TestInPlace runs machines where a Pass sets its Result into an object
// a Parameters built (thread.owned): without history the object grows
// in place, with history it is copied; both must give the outputs below,
// and no other holder of the object may see it change.
func TestInPlace(t *testing.T) {
	tests := []struct {
		name, def, input, want string
	}{
		{"benchmark", reuseMachines[0], `{"n":7}`, `SUCCEEDED {"n":7,"tag":"x","size":"big"} - -`},
		{"two members: the second copies",
			`{"StartAt":"A","States":{
			 "A":{"Type":"Pass","Parameters":{"n.$":"$.n"},"Next":"B"},
			 "B":{"Type":"Pass","Result":1,"ResultPath":"$.b","Next":"C"},
			 "C":{"Type":"Pass","Result":2,"ResultPath":"$.c","Next":"D"},
			 "D":{"Type":"Pass","Result":3,"ResultPath":"$.b","End":true}}}`,
			`{"n":1}`, `SUCCEEDED {"n":1,"b":3,"c":2} - -`},
		{"a copy that holds the object",
			`{"StartAt":"A","States":{
			 "A":{"Type":"Pass","Parameters":{"n.$":"$.n"},"Next":"B"},
			 "B":{"Type":"Pass","ResultPath":"$.self","Next":"C"},
			 "C":{"Type":"Pass","Result":"r","ResultPath":"$.r","Next":"D"},
			 "D":{"Type":"Pass","Result":"s","ResultPath":"$.self.s","End":true}}}`,
			`{"n":1}`, `SUCCEEDED {"n":1,"self":{"n":1,"s":"s"},"r":"r"} - -`},
		{"the object inside its own output",
			`{"StartAt":"A","States":{
			 "A":{"Type":"Pass","Parameters":{"n.$":"$.n"},"Next":"B"},
			 "B":{"Type":"Pass","Parameters":{"inner.$":"$","m":1},"ResultPath":"$.wrap","OutputPath":"$.wrap.inner","Next":"C"},
			 "C":{"Type":"Pass","Result":"r","ResultPath":"$.r","End":true}}}`,
			`{"n":1}`, `SUCCEEDED {"n":1,"r":"r"} - -`},
		{"a literal Parameters",
			`{"StartAt":"A","States":{
			 "A":{"Type":"Pass","Parameters":{"k":"v"},"Next":"B"},
			 "B":{"Type":"Pass","Result":1,"ResultPath":"$.b","Next":"C"},
			 "C":{"Type":"Pass","Parameters":{"k":"v"},"End":true}}}`,
			`{}`, `SUCCEEDED {"k":"v"} - -`},
		{"variables",
			`{"StartAt":"A","States":{
			 "A":{"Type":"Pass","Parameters":{"n.$":"$.n"},"Assign":{"v.$":"$"},"Next":"B"},
			 "B":{"Type":"Pass","Result":1,"ResultPath":"$.b","Next":"C"},
			 "C":{"Type":"Pass","Parameters":{"v.$":"$v","now.$":"$"},"End":true}}}`,
			`{"n":1}`, `SUCCEEDED {"v":{"n":1},"now":{"n":1,"b":1}} - -`},
		{"parallel branches share the object",
			`{"StartAt":"A","States":{
			 "A":{"Type":"Pass","Parameters":{"n.$":"$.n"},"Next":"P"},
			 "P":{"Type":"Parallel","Next":"C","Branches":[
			  {"StartAt":"X","States":{"X":{"Type":"Pass","Result":1,"ResultPath":"$.x","End":true}}},
			  {"StartAt":"Y","States":{"Y":{"Type":"Pass","Result":2,"ResultPath":"$.y","End":true}}}]},
			 "C":{"Type":"Pass","Result":3,"ResultPath":"$[0].z","End":true}}}`,
			`{"n":1}`, `SUCCEEDED [{"n":1,"x":1,"z":3},{"n":1,"y":2}] - -`},
		{"parallel input kept for its result",
			`{"StartAt":"A","States":{
			 "A":{"Type":"Pass","Parameters":{"n.$":"$.n"},"Next":"P"},
			 "P":{"Type":"Parallel","ResultPath":"$.out","Next":"C","Branches":[
			  {"StartAt":"X","States":{"X":{"Type":"Pass","Result":1,"ResultPath":"$.x","End":true}}}]},
			 "C":{"Type":"Pass","Result":3,"ResultPath":"$.z","End":true}}}`,
			`{"n":1}`, `SUCCEEDED {"n":1,"out":[{"n":1,"x":1}],"z":3} - -`},
		{"map iterations",
			`{"StartAt":"M","States":{
			 "M":{"Type":"Map","ItemsPath":"$.items","End":true,"ItemProcessor":{"StartAt":"A","States":{
			  "A":{"Type":"Pass","Parameters":{"v.$":"$"},"Next":"B"},
			  "B":{"Type":"Pass","Result":true,"ResultPath":"$.seen","End":true}}}}}}`,
			`{"items":[1,2]}`, `SUCCEEDED [{"v":1,"seen":true},{"v":2,"seen":true}] - -`},
		{"grown past the payload limit",
			`{"StartAt":"A","States":{
			 "A":{"Type":"Pass","Parameters":{"s.$":"$.s"},"Next":"B"},
			 "B":{"Type":"Pass","Result":"0123456789012345678901234567890123456789","ResultPath":"$.t","End":true}}}`,
			`{"s":"0123456789012345678901234567890123456789"}`,
			`FAILED - States.DataLimitExceeded The state/task 'B' returned a result with a size exceeding the maximum number of bytes service limit.`},
		// {"s":"<40 bytes>"} is 48 bytes; ,"t":"<25 bytes>" 32 more.
		{"grown to the payload limit",
			`{"StartAt":"A","States":{
			 "A":{"Type":"Pass","Parameters":{"s.$":"$.s"},"Next":"B"},
			 "B":{"Type":"Pass","Result":"0123456789012345678901234","ResultPath":"$.t","End":true}}}`,
			`{"s":"0123456789012345678901234567890123456789"}`,
			`SUCCEEDED {"s":"0123456789012345678901234567890123456789","t":"0123456789012345678901234"} - -`},
		{"grown a byte past the payload limit",
			`{"StartAt":"A","States":{
			 "A":{"Type":"Pass","Parameters":{"s.$":"$.s"},"Next":"B"},
			 "B":{"Type":"Pass","Result":"01234567890123456789012345","ResultPath":"$.t","End":true}}}`,
			`{"s":"0123456789012345678901234567890123456789"}`,
			`FAILED - States.DataLimitExceeded The state/task 'B' returned a result with a size exceeding the maximum number of bytes service limit.`},
		{"a member replaced past the payload limit",
			`{"StartAt":"A","States":{
			 "A":{"Type":"Pass","Parameters":{"s.$":"$.s","t":""},"Next":"B"},
			 "B":{"Type":"Pass","Result":"01234567890123456789012345","ResultPath":"$.t","End":true}}}`,
			`{"s":"0123456789012345678901234567890123456789"}`,
			`FAILED - States.DataLimitExceeded The state/task 'B' returned a result with a size exceeding the maximum number of bytes service limit.`},
		// ,"\"":"<16 bytes>\n\u0001" is 32 bytes.
		{"escaped member to the payload limit",
			`{"StartAt":"A","States":{
			 "A":{"Type":"Pass","Parameters":{"s.$":"$.s"},"Next":"B"},
			 "B":{"Type":"Pass","Result":"0123456789012345\n\u0001","ResultPath":"$['\"']","End":true}}}`,
			`{"s":"0123456789012345678901234567890123456789"}`,
			`SUCCEEDED {"s":"0123456789012345678901234567890123456789","\"":"0123456789012345\n\u0001"} - -`},
		{"escaped member a byte past the payload limit",
			`{"StartAt":"A","States":{
			 "A":{"Type":"Pass","Parameters":{"s.$":"$.s"},"Next":"B"},
			 "B":{"Type":"Pass","Result":"01234567890123456\n\u0001","ResultPath":"$['\"']","End":true}}}`,
			`{"s":"0123456789012345678901234567890123456789"}`,
			`FAILED - States.DataLimitExceeded The state/task 'B' returned a result with a size exceeding the maximum number of bytes service limit.`},
	}
	e := New(Config{MaxPayloadBytes: 80})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sm, err := asl.Load([]byte(tt.def), asl.Options{})
			if err != nil {
				t.Fatal(err)
			}
			x := func() *Execution {
				return &Execution{ARN: "arn:aws:states:us-east-1:123456789012:execution:m:x", Name: "x",
					Type: "EXPRESS", Input: tt.input, Machine: sm}
			}
			for i := range 3 { // reused execution structs too
				if got := summary(e.Execute(context.Background(), x(), nil)); got != tt.want {
					t.Errorf("run %d without history: %s, want %s", i, got, tt.want)
				}
			}
			if got := summary(e.Execute(context.Background(), x(), discard{})); got != tt.want {
				t.Errorf("with history: %s, want %s", got, tt.want)
			}
		})
	}
}

// TestInPlacePlan checks which plans build, keep and grow an owned
// object (inPlace).
func TestInPlacePlan(t *testing.T) {
	type flags struct {
		keeps  bool
		room   int
		member string
	}
	tests := []struct {
		name, def string
		want      map[string]flags
	}{
		{"benchmark", reuseMachines[0], map[string]flags{
			"A": {true, 1, ""}, "B": {true, 0, ""}, "Big": {true, 0, "size"}, "Small": {true, 0, "size"}, "E": {true, 0, ""}}},
		{"no state grows", `{"StartAt":"A","States":{
		 "A":{"Type":"Pass","Parameters":{"n.$":"$.n"},"Next":"B"},
		 "B":{"Type":"Pass","Result":1,"ResultPath":"$.b.c","Next":"C"},
		 "C":{"Type":"Pass","Result":1,"ResultPath":"$.d","Assign":{"x":1},"Next":"W"},
		 "W":{"Type":"Wait","Seconds":0,"End":true}}}`, map[string]flags{
			"A": {true, 0, ""}, "B": {true, 0, ""}, "C": {true, 0, ""}, "W": {false, 0, ""}}},
		{"literal and Result Parameters", `{"StartAt":"A","States":{
		 "A":{"Type":"Pass","Parameters":{"k":"v"},"Next":"B"},
		 "B":{"Type":"Pass","Parameters":{"n.$":"$.n"},"Result":1,"ResultPath":"$.b","Next":"S"},
		 "S":{"Type":"Succeed"}}}`, map[string]flags{
			"A": {true, 0, ""}, "B": {true, 0, "b"}, "S": {false, 0, ""}}},
		{"JSONata", `{"QueryLanguage":"JSONata","StartAt":"A","States":{
		 "A":{"Type":"Pass","Output":{"n":"{% $states.input.n %}"},"End":true}}}`, map[string]flags{
			"A": {false, 0, ""}}},
	}
	for _, tt := range tests {
		sm, err := asl.Load([]byte(tt.def), asl.Options{})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		mp := planOf(sm)
		for name, want := range tt.want {
			b := mp.states[name].common()
			if got := (flags{b.keepsOwned, b.room, b.member}); got != want {
				t.Errorf("%s, state %s: %+v, want %+v", tt.name, name, got, want)
			}
		}
	}
}

func TestSameObject(t *testing.T) {
	o, p := value.NewObject(0), value.NewObject(0)
	arr := []any{1}
	tests := []struct {
		name string
		a, b any
		want bool
	}{
		{"same object", o, o, true},
		{"other object", o, p, false},
		{"nil and object", nil, o, false},
		{"object and nil", o, nil, false},
		{"nil object", (*value.Object)(nil), (*value.Object)(nil), true},
		{"arrays", arr, arr, false},
		{"strings", "x", "x", false},
		{"numbers", int64(1), int64(1), false},
	}
	for _, tt := range tests {
		if got := sameObject(tt.a, tt.b); got != tt.want {
			t.Errorf("%s: sameObject = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestGrown checks when a thread keeps the measure of an object a member
// was set in.
func TestGrown(t *testing.T) {
	e := New(Config{MaxPayloadBytes: 20})
	obj := func(n int) *value.Object {
		o := value.NewObject(n + 1)
		for i := range n {
			o.Set(string(rune('a'+i)), int64(i))
		}
		return o
	}
	other := obj(0)
	tests := []struct {
		name     string
		members  int // before; the object then gets "z"
		measured func(o *value.Object) *value.Object
		size     int  // measuredSize before
		member   int  // the member's text length
		replace  bool // set "a" (present) instead of adding "z"
		want     int  // measuredSize after, 0: no longer measured
	}{
		{"added within", 1, self, 7, 7, false, 15},
		{"added to the limit", 1, self, 7, 12, false, 20},
		{"added past the limit", 1, self, 7, 13, false, 0},
		{"first member: no comma", 0, self, 2, 18, false, 20},
		{"replaced", 1, self, 7, 7, true, 0},
		{"size unknown", 1, self, 0, 7, false, 0},
		{"another object measured", 1, func(*value.Object) *value.Object { return other }, 7, 7, false, 0},
	}
	for _, tt := range tests {
		o := obj(tt.members)
		th := &thread{ex: &execution{e: e}, measured: tt.measured(o), measuredSize: tt.size}
		n, k := o.Len(), "z"
		if tt.replace {
			k = "a"
		}
		o.SetWithin(k, true)
		th.grown(o, n, tt.member)
		switch {
		case tt.want == 0 && (th.measured != nil || th.measuredSize != 0):
			t.Errorf("%s: still measured (%d bytes)", tt.name, th.measuredSize)
		case tt.want != 0 && (th.measured != o || th.measuredSize != tt.want):
			t.Errorf("%s: measured %v, %d bytes; want %d", tt.name, th.measured == o, th.measuredSize, tt.want)
		}
	}
}

func self(o *value.Object) *value.Object { return o }
