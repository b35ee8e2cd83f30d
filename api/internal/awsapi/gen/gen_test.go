package gen

import (
	"strings"
	"testing"
)

// tiny is a model with one operation; tests change its shapes.
const tiny = `{
  "operations": {"Op": {"input": {"shape": "OpInput"}}},
  "shapes": {
    "OpInput": {"type": "structure", "required": ["name"], "members": {"name": {"shape": "Name"}, "z": {"shape": "Name"}, "a": {"shape": "Name"}}},
    "Name": {"type": "string", "min": 1, "max": 80},
    "Boom": {"type": "structure", "members": {"message": {"shape": "Msg"}}, "exception": true},
    "Msg": {"type": "string"},
    %s
  }
}`

func tinyModel(extra string) []byte {
	if extra == "" {
		extra = `"Unused": {"type": "string"}`
	}
	return []byte(strings.Replace(tiny, "%s", extra, 1))
}

func TestFiles(t *testing.T) {
	files, err := files(tinyModel(""), nil)
	if err != nil {
		t.Fatal(err)
	}
	in := string(files["inputs_gen.go"])
	// Members keep the model's order (name, z, a), which is the order of
	// the violations AWS reports.
	iz, ia := strings.Index(in, `c.length(p, "z"`), strings.Index(in, `c.length(p, "a"`)
	if !strings.Contains(in, `c.null(p, "name")`) || iz < 0 || ia < 0 || iz > ia {
		t.Errorf("input checks not in model order:\n%s", in)
	}
	errs := string(files["errors_gen.go"])
	for _, want := range []string{
		`CodeBoom:`, `"com.amazonaws.swf.service.v2.model#Boom", 400}`,
		`func Boom(message string) *Error`, `"com.amazon.coral.service#InternalFailure", 500}`,
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("errors_gen.go lacks %s:\n%s", want, errs)
		}
	}
}

func TestFiles_ErrorStatusFromTheModel(t *testing.T) {
	files, err := files(tinyModel(`"Boom": {"type": "structure", "members": {}, "exception": true, "error": {"httpStatusCode": 429}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(files["errors_gen.go"]), `"com.amazonaws.swf.service.v2.model#Boom", 429}`) {
		t.Fatalf("errors_gen.go:\n%s", files["errors_gen.go"])
	}
}

func TestFiles_RejectsWhatItCannotGenerate(t *testing.T) {
	tests := []struct {
		name, shapes, wantErr string
	}{
		{"unknown pattern", `"OpInput": {"type": "structure", "members": {"x": {"shape": "P"}}}, "P": {"type": "string", "pattern": "[a-z]+"}`,
			`pattern "[a-z]+" has no matcher`},
		{"map member", `"OpInput": {"type": "structure", "members": {"x": {"shape": "M"}}}, "M": {"type": "map", "key": {"shape": "Msg"}, "value": {"shape": "Msg"}}`,
			"type map is not supported"},
		{"exception member", `"Boom": {"type": "structure", "members": {"message": {"shape": "Msg"}, "extra": {"shape": "Msg"}}, "exception": true}`,
			"which awsapi.Error cannot carry"},
		{"missing shape", `"OpInput": {"type": "structure", "members": {"x": {"shape": "Nowhere"}}}`,
			"shape Nowhere is not in the model"},
		{"protocol error in model", `"InternalFailure": {"type": "structure", "members": {}, "exception": true}`,
			"protocol error InternalFailure is also a model shape"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A later duplicate key replaces the earlier shape.
			_, err := files(tinyModel(tt.shapes), nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestFiles_RejectsStaleOverride(t *testing.T) {
	_, err := files(tinyModel(""), map[string]override{"OpInput.gone": {required: true}})
	if err == nil || !strings.Contains(err.Error(), "override OpInput.gone names no member") {
		t.Fatalf("err %v", err)
	}
}

func TestSentence(t *testing.T) {
	got := sentence("<p>The <code>a</code> &lt;b&gt; thing. More.</p>")
	if got != "The a <b> thing." {
		t.Fatalf("got %q", got)
	}
}
