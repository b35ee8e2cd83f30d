package asl_test

import (
	"testing"

	"github.com/stepwell/stepwell/asl"
)

// TestLookup finds states at the top level, in Parallel branches and in
// Map item processors, nested in each other.
func TestLookup(t *testing.T) {
	def := `{"StartAt":"Par","States":{
	  "Par":{"Type":"Parallel","Next":"Map","Branches":[
	    {"StartAt":"B1","States":{"B1":{"Type":"Pass","End":true}}},
	    {"StartAt":"B2","States":{"B2":{"Type":"Map","End":true,
	      "ItemProcessor":{"StartAt":"Deep","States":{"Deep":{"Type":"Pass","End":true}}}}}}]},
	  "Map":{"Type":"Map","End":true,"ItemProcessor":{"StartAt":"Item","States":{"Item":{"Type":"Succeed"}}}}}}`
	sm, err := asl.Load([]byte(def), asl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		typ  asl.StateType // "": not found
	}{
		{"Par", asl.TypeParallel}, {"Map", asl.TypeMap}, {"B1", asl.TypePass}, {"B2", asl.TypeMap},
		{"Deep", asl.TypePass}, {"Item", asl.TypeSucceed}, {"None", ""}, {"", ""},
	} {
		st := sm.Lookup(tt.name)
		switch {
		case tt.typ == "" && st != nil:
			t.Errorf("Lookup(%q) = %s, want nil", tt.name, st.Name)
		case tt.typ != "" && (st == nil || st.Name != tt.name || st.Type != tt.typ):
			t.Errorf("Lookup(%q) = %+v, want the %s state", tt.name, st, tt.typ)
		}
	}
	if (*asl.StateMachine)(nil).Lookup("Par") != nil {
		t.Error("nil machine found a state")
	}
}
