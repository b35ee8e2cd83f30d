package jsonpath

import (
	"testing"

	"github.com/stepwell/stepwell/value"
)

// FuzzCompile checks that Compile never panics and that whatever compiles
// can be evaluated and assigned on a fixed document without panicking.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		"$", "$$", "$x", "$.a.b[0]", "$..a", "$.a[*].b", "$.a[1:3]", "$.a[-1:]", "$.a[:-1]", "$.a[0,1]",
		"$['a','b']", `$["a"]['b\'c']`, "$.a.length()", "$.a.sum()", "$..[?(@.x)]",
		"$.a[?(@.x > 1 && @.y == 'a' || !@.z)]", "$.a[?(@.x =~ /a.*/i)]", "$.a[?(@.x in [1,'2',{\"k\":[]}])]",
		"$.a[?(@.x nin $.b)]", "$.a[?(@.x empty true)]", "$.a[?(@.x size 2)]", "$.a[?((@.x) && (@.y))]",
		"$.a[?(@.b[?(@.c)])]", "$..*", "$.*.*", "$$.Map.Item.Value", "$v.a[0].b",
	} {
		f.Add(s)
	}
	doc := value.MustParse(`{"a":[{"x":1,"y":"a","b":[{"c":null}]},{"x":"2","z":[1,2]},3,null,[[]]],"b":[1,"2"],"s":"str","n":null,"o":{"a":{"a":{}}},"big":123456789012345678901234567890,"f":1.5}`)
	f.Fuzz(func(t *testing.T, s string) {
		if p, err := CompileReference(s); err == nil {
			if _, err := p.Get(doc); err != nil {
				if _, ok := err.(*NotFoundError); !ok {
					t.Fatalf("Get(%q) returned %T", s, err)
				}
			}
		}
		p, err := Compile(s)
		if err != nil {
			return
		}
		if p.String() != s {
			t.Fatalf("String() = %q, want %q", p.String(), s)
		}
		v, err := p.Get(doc)
		if !p.IsDefinite() {
			if _, ok := v.([]any); !ok || err != nil {
				t.Fatalf("Get(%q) on an indefinite path = %T, %v", s, v, err)
			}
		}
		for _, d := range []any{doc, nil, "s", []any{int64(1)}} {
			_, _ = p.Get(d)
			_, _ = p.Set(d, int64(1))
		}
		before := value.String(doc)
		_, _ = p.Set(doc, "v")
		if value.String(doc) != before {
			t.Fatalf("Set(%q) modified the document", s)
		}
	})
}
