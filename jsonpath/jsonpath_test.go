package jsonpath

import (
	"errors"
	"strings"
	"testing"

	"github.com/stepwell/stepwell/value"
)

const storeDoc = `{
 "store": {
  "book": [
   {"category": "reference", "author": "Nigel Rees", "title": "Sayings of the Century", "price": 8.95},
   {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword of Honour", "price": 12.99},
   {"category": "fiction", "author": "Herman Melville", "title": "Moby Dick", "isbn": "0-553-21311-3", "price": 8.99},
   {"category": "fiction", "author": "J. R. R. Tolkien", "title": "The Lord of the Rings", "isbn": "0-395-19395-8", "price": 22.99}
  ],
  "bicycle": {"color": "red", "price": 19.95}
 },
 "expensive": 10,
 "users": [{"year": 1997, "status": 0}, {"year": 1998, "status": 1}],
 "items": [0, 1, 2, 3, 4],
 "big": 123456789012345678901234567890,
 "nul": null,
 "str": "text",
 "odd keys": {"a.b": 1, "it's": 2, "q\"": 3, "it\\'s": 4, "q\\\"": 5, "Test\\\"\"Name\"": 6},
 "nested": {"a": {"x": 1, "b": {"x": 2}}, "c": [{"x": 3}, {"y": 4}]}
}`

func mustDoc(t testing.TB, s string) any {
	t.Helper()
	v, err := value.ParseString(s)
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return v
}

func TestGet(t *testing.T) {
	doc := mustDoc(t, storeDoc)
	tests := []struct {
		path string
		want string // JSON of the result; "" when an error is expected
		err  string // substring of the NotFoundError message
	}{
		{path: "$", want: value.String(doc)},
		{path: "$.expensive", want: `10`},
		{path: "$.store.bicycle.color", want: `"red"`},
		{path: "$['store']['bicycle']['color']", want: `"red"`},
		{path: `$["store"]["bicycle"]["color"]`, want: `"red"`},
		{path: "$.store.book[0].author", want: `"Nigel Rees"`},
		{path: "$.store.book[-1].title", want: `"The Lord of the Rings"`},
		{path: "$.store.book[-4].title", want: `"Sayings of the Century"`},
		{path: "$.big", want: `123456789012345678901234567890`},
		{path: "$.nul", want: `null`},
		{path: "$['odd keys']['a.b']", want: `1`},
		// AWS keeps a backslash inside ['…'] as it is (Jayway would
		// unescape it): the escaped delimiter does not end the name, and
		// the backslash stays part of it.
		{path: `$['odd keys']['it\'s']`, want: `4`},
		{path: `$['odd keys']["q\""]`, want: `5`},
		{path: `$['odd keys']['Test\""Name"']`, want: `6`},
		{path: `$['odd keys']["it's"]`, want: `2`},
		{path: `$['odd keys']['q"']`, want: `3`},
		{path: "$.['odd keys'].['a.b']", want: `1`},
		{path: "$.store.book.length()", want: `4`},
		{path: "$.str.length()", want: `4`},
		{path: "$.items.sum()", want: `10.0`},
		{path: "$.items.max()", want: `4.0`},
		{path: "$.store.bicycle['color','price','nope']", want: `{"color":"red","price":19.95}`},

		// Definite paths that select nothing: Jayway's messages.
		{path: "$.nope", err: "No results for path: $['nope']"},
		{path: "$.no.such.path", err: "Missing property in path $['no']"},
		{path: "$.store.nope", err: "No results for path: $['store']['nope']"},
		{path: "$.items[5]", err: "No results for path: $['items'][5]"},
		{path: "$.items[-6]", err: "No results for path: $['items'][-6]"},
		{path: "$.store.book.title", err: "Expected to find an object with property ['title'] in path $['store']['book'] but found 'java.util.ArrayList'"},
		{path: "$.str.x", err: "but found 'java.lang.String'"},
		{path: "$.nul.x", err: "in path $['nul'] but found 'null'"},
		{path: "$.nul[0]", err: "The path $['nul'] is null"},
		{path: "$.store[0].x", err: "Filter: [0]['x'] can only be applied to arrays. Current context is: {book="},

		// Indefinite paths: lists in document order.
		{path: "$.store.book[*].author", want: `["Nigel Rees","Evelyn Waugh","Herman Melville","J. R. R. Tolkien"]`},
		{path: "$.store.book.*.price", want: `[8.95,12.99,8.99,22.99]`},
		{path: "$.store.*", want: `[[{"category":"reference","author":"Nigel Rees","title":"Sayings of the Century","price":8.95},{"category":"fiction","author":"Evelyn Waugh","title":"Sword of Honour","price":12.99},{"category":"fiction","author":"Herman Melville","title":"Moby Dick","isbn":"0-553-21311-3","price":8.99},{"category":"fiction","author":"J. R. R. Tolkien","title":"The Lord of the Rings","isbn":"0-395-19395-8","price":22.99}],{"color":"red","price":19.95}]`},
		{path: "$.store..price", want: `[8.95,12.99,8.99,22.99,19.95]`},
		{path: "$..author", want: `["Nigel Rees","Evelyn Waugh","Herman Melville","J. R. R. Tolkien"]`},
		{path: "$.nested..x", want: `[1,2,3]`},
		{path: "$..book[2].title", want: `["Moby Dick"]`},
		{path: "$..book[?(@.isbn)].title", want: `["Moby Dick","The Lord of the Rings"]`},
		{path: "$..[?(@.x)].x", want: `[1,2,3]`},
		{path: "$.items[0,2]", want: `[0,2]`},
		{path: "$.items[1:3]", want: `[1,2]`},
		{path: "$.items[1:]", want: `[1,2,3,4]`},
		{path: "$.items[:2]", want: `[0,1]`},
		{path: "$.items[-2:]", want: `[3,4]`},
		{path: "$.items[:-2]", want: `[0,1,2]`},
		{path: "$.items[-3:-1]", want: `[2,3]`},
		{path: "$.items[3:1]", want: `[]`},
		{path: "$.items[2:100]", want: `[2,3,4]`},
		{path: "$.items[0:5:2]", want: `[0,1,2,3,4]`}, // Jayway ignores a step
		{path: "$.items[ 1 , 3 ]", want: `[1,3]`},
		{path: "$.items[ * ]", want: `[0,1,2,3,4]`},
		{path: "$.users[?(@.status == 0)]", want: `[{"year":1997,"status":0}]`},
		{path: "$.users[?(@.status == '1')].year", want: `[1998]`},
		{path: "$.store.book[?(@.price < 10)].title", want: `["Sayings of the Century","Moby Dick"]`},
		{path: "$.store.book[?(@.price <= $.expensive)].price", want: `[8.95,8.99]`},
		{path: "$.store.book[?(@.price >= 12.99 && @.category == 'fiction')].price", want: `[12.99,22.99]`},
		{path: "$.store.book[?(@.price > 20 || @.author == 'Nigel Rees')].price", want: `[8.95,22.99]`},
		{path: "$.store.book[?(@.author =~ /.*REES/i)].price", want: `[8.95]`},
		{path: "$.store.book[?(@.author =~ /Rees/)].price", want: `[]`},
		{path: "$.store.book[?(@.category in ['reference', 'x'])].price", want: `[8.95]`},
		{path: "$.store.book[?(@.category nin ['fiction'])].price", want: `[8.95]`},
		{path: "$.store.book[?(!@.isbn)].price", want: `[8.95,12.99]`},
		{path: "$.store.book[?(@.isbn empty false)].price", want: `[8.99,22.99]`},
		{path: "$.store.book[?(@.title size 9)].price", want: `[8.99]`},
		{path: "$.store.book[?(@.price != 8.95)].price", want: `[12.99,8.99,22.99]`},
		{path: "$.store.bicycle[?(@.color == 'red')].price", want: `[19.95]`},
		{path: "$.store.bicycle[?(@.color == 'blue')]", want: `[]`},
		{path: "$.store.book[?(@.price > 10 && (@.category == 'x' || @.isbn))].price", want: `[22.99]`},
		{path: "$.store.book[?(@.price)]['price','title']", want: `[{"price":8.95,"title":"Sayings of the Century"},{"price":12.99,"title":"Sword of Honour"},{"price":8.99,"title":"Moby Dick"},{"price":22.99,"title":"The Lord of the Rings"}]`},
		{path: "$.store.book[0]['title','price'].x", want: `[]`},

		// Jayway has no precedence between && and ||: a && b || c is a && (b || c).
		{path: "$.store.book[?(@.price < 10 && @.category == 'fiction' || @.isbn)].price", want: `[8.99]`},
		// A missing member is unequal to everything.
		{path: "$.store.book[?(@.isbn != 'x')].price", want: `[8.95,12.99,8.99,22.99]`},
		// Indefinite paths never fail: a missing part gives an empty list.
		{path: "$.item.items[1:5].itemValue", want: `[]`},
		{path: "$.items2[*]", want: `[]`},
		{path: "$.str[*]", want: `[]`},
		{path: "$.str.*.x", want: `[]`},
		{path: "$.items[*].x", want: `[]`},
	}
	for _, tt := range tests {
		p, err := Compile(tt.path)
		if err != nil {
			t.Errorf("Compile(%q): %v", tt.path, err)
			continue
		}
		got, err := p.Get(doc)
		if tt.err != "" {
			var nf *NotFoundError
			if !errors.As(err, &nf) {
				t.Errorf("Get(%q) = %s, %v; want NotFoundError %q", tt.path, value.String(got), err, tt.err)
				continue
			}
			if !strings.Contains(nf.Error(), tt.err) {
				t.Errorf("Get(%q) error %q, want it to contain %q", tt.path, nf.Error(), tt.err)
			}
			if nf.Path != tt.path {
				t.Errorf("Get(%q) error Path = %q", tt.path, nf.Path)
			}
			continue
		}
		if err != nil {
			t.Errorf("Get(%q): %v", tt.path, err)
			continue
		}
		if s := value.String(got); s != tt.want {
			t.Errorf("Get(%q) = %s, want %s", tt.path, s, tt.want)
		}
	}
}

func TestNestedFilterRoot(t *testing.T) {
	doc := mustDoc(t, `{"k":1,"a":[{"id":"first","b":[{"c":1}]},{"id":"second","b":[{"c":2}]}]}`)
	got, err := MustCompile("$.a[?(@.b[?(@.c == $.k)])].id").Get(doc)
	if err != nil || value.String(got) != `["first"]` {
		t.Errorf("got %s, %v; want [\"first\"]", value.String(got), err)
	}
}

func TestCompile(t *testing.T) {
	tests := []struct {
		path     string
		root     RootKind
		varName  string
		definite bool
	}{
		{"$", RootInput, "", true},
		{"$$", RootContext, "", true},
		{"$$.Execution.Input", RootContext, "", true},
		{"$$.Map.Item.Value", RootContext, "", true},
		{"$x", RootVariable, "x", true},
		{"$myVar.a[0]", RootVariable, "myVar", true},
		{"$no.such.var.path", RootVariable, "no", true},
		{"$état['x']", RootVariable, "état", true},
		{"$_v1[*]", RootVariable, "_v1", false},
		{"$.a.b[0]", RootInput, "", true},
		{"$[0]", RootInput, "", true},
		{"$.delivery-partner", RootInput, "", true},
		{"$.a[0,1]", RootInput, "", false},
		{"$.a[1:]", RootInput, "", false},
		{"$..a", RootInput, "", false},
		{"$.a.*", RootInput, "", false},
		{"$.a[?(@.x)]", RootInput, "", false},
		{"$['a','b']", RootInput, "", true},
		{"$['a','b'].c", RootInput, "", false},
		{"$.a.length()", RootInput, "", true},
		{"$.a ", RootInput, "", true},
	}
	for _, tt := range tests {
		p, err := Compile(tt.path)
		if err != nil {
			t.Errorf("Compile(%q): %v", tt.path, err)
			continue
		}
		if p.Root() != tt.root || p.VarName() != tt.varName || p.IsDefinite() != tt.definite || p.String() != tt.path {
			t.Errorf("Compile(%q) = root %v var %q definite %v text %q; want %v %q %v", tt.path,
				p.Root(), p.VarName(), p.IsDefinite(), p.String(), tt.root, tt.varName, tt.definite)
		}
	}
}

func TestCompileInvalid(t *testing.T) {
	for _, s := range []string{
		"", "a.b", "$.", "$..", "$.a.", "$.a..", "$...a", "$$x", "$x y", "$1x", "$.a b",
		"$[", "$[]", "$['a'", "$['a' 'b']", "$['a',]", "$[1:2", "$[1-2]", "$[a]",
		"$[*x]", "$[:]", "$[1 2]", "$[99999999999]", "$[?]", "$[?(@.a == 1]", "$[?(@.a = 1)]",
		"$[?(@.a == 'x)]", "$[?(@.a =~ /(/)]", "$[?(1)]", "$[?(@.a == )]", "$[?(@.a && )]",
		"$.a.nosuchfn()", "$.a.length().b", "$.a.concat('x')", "$ .a", "$[?(@.a ~~ 1)]",
	} {
		if p, err := Compile(s); err == nil {
			t.Errorf("Compile(%q) succeeded (segments %d), want an error", s, len(p.segs))
		}
	}
}

func TestCompileReference(t *testing.T) {
	for _, s := range []string{"$", "$.a", "$.a.b[0]", "$['a b'][-1]", "$$.Execution.Input", "$x.y"} {
		if _, err := CompileReference(s); err != nil {
			t.Errorf("CompileReference(%q): %v", s, err)
		}
	}
	for _, s := range []string{"$.a[*]", "$..a", "$.a[0,1]", "$.a[1:]", "$.a[?(@.x)]", "$['a','b']", "$.a.length()", "$.*", "$.a b"} {
		if _, err := CompileReference(s); err == nil {
			t.Errorf("CompileReference(%q) succeeded, want an error", s)
		}
	}
}

func TestRoots(t *testing.T) {
	ctx := mustDoc(t, `{"Execution":{"Input":{"k":"v"}},"Map":{"Item":{"Value":[1,2]}}}`)
	vars := map[string]any{"myVar": mustDoc(t, `{"a":[10,20]}`), "x": int64(3)}
	tests := []struct{ path, want string }{
		{"$$", value.String(ctx)},
		{"$$.Execution.Input.k", `"v"`},
		{"$$.Map.Item.Value[1]", `2`},
		{"$myVar.a[1]", `20`},
		{"$myVar", `{"a":[10,20]}`},
		{"$x", `3`},
	}
	for _, tt := range tests {
		p := MustCompile(tt.path)
		doc := ctx
		if p.Root() == RootVariable {
			doc = vars[p.VarName()]
		}
		got, err := p.Get(doc)
		if err != nil || value.String(got) != tt.want {
			t.Errorf("Get(%q) = %s, %v; want %s", tt.path, value.String(got), err, tt.want)
		}
	}
}

func TestSet(t *testing.T) {
	tests := []struct {
		doc, path, v, want string
		fails              bool
	}{
		{doc: `{"a":1}`, path: "$", v: `"x"`, want: `"x"`},
		{doc: `"foo"`, path: "$", v: `{"r":1}`, want: `{"r":1}`},
		{doc: `{"a":1,"b":2}`, path: "$.a", v: `9`, want: `{"a":9,"b":2}`},
		{doc: `{"a":1,"b":2}`, path: "$.c", v: `9`, want: `{"a":1,"b":2,"c":9}`},
		{doc: `{"a":1}`, path: "$.master.result.sum", v: `3`, want: `{"a":1,"master":{"result":{"sum":3}}}`},
		{doc: `{"a":{"x":1,"y":2},"b":3}`, path: "$.a.x", v: `{"n":[1]}`, want: `{"a":{"x":{"n":[1]},"y":2},"b":3}`},
		{doc: `{"a":[1,{"b":2},3]}`, path: "$.a[1].b", v: `true`, want: `{"a":[1,{"b":true},3]}`},
		{doc: `{"a":[1,2,3]}`, path: "$.a[-1]", v: `0`, want: `{"a":[1,2,0]}`},
		{doc: `{"a":[1,2,3]}`, path: "$['a'][0]", v: `null`, want: `{"a":[null,2,3]}`},
		{doc: `{"a b":{}}`, path: "$['a b'].c", v: `123456789012345678901234567890`, want: `{"a b":{"c":123456789012345678901234567890}}`},
		{doc: `{}`, path: "$.a", v: `1.0`, want: `{"a":1.0}`},
		{doc: `"foo"`, path: "$.x", fails: true},
		{doc: `{"a":"s"}`, path: "$.a.b", fails: true},
		{doc: `{"a":[1]}`, path: "$.a.b", fails: true},
		{doc: `{"a":null}`, path: "$.a.b", fails: true},
		{doc: `{"a":[1]}`, path: "$.a[1]", fails: true},
		{doc: `{"a":[1]}`, path: "$.a[-2]", fails: true},
		{doc: `{"a":{}}`, path: "$.a[0]", fails: true},
		{doc: `{}`, path: "$.a[0]", fails: true},
		{doc: `[1,2]`, path: "$[0]", v: `5`, want: `[5,2]`},
		{doc: `{}`, path: "$.a[*]", fails: true},
		{doc: `{}`, path: "$$.a", fails: true},
		{doc: `{}`, path: "$x.a", fails: true},
	}
	for _, tt := range tests {
		doc := mustDoc(t, tt.doc)
		before := value.String(doc)
		var v any
		if tt.v != "" {
			v = mustDoc(t, tt.v)
		}
		p, err := Compile(tt.path)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tt.path, err)
		}
		got, err := p.Set(doc, v)
		if after := value.String(doc); after != before {
			t.Errorf("Set(%s, %q) modified the document: %s", tt.doc, tt.path, after)
		}
		if tt.fails {
			var se *SetError
			if !errors.As(err, &se) {
				t.Errorf("Set(%s, %q) = %s, %v; want a SetError", tt.doc, tt.path, value.String(got), err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Set(%s, %q): %v", tt.doc, tt.path, err)
			continue
		}
		if s := value.String(got); s != tt.want {
			t.Errorf("Set(%s, %q) = %s, want %s", tt.doc, tt.path, s, tt.want)
		}
	}
}

func TestMember(t *testing.T) {
	tests := []struct {
		path string
		name string
		ok   bool
	}{
		{"$.a", "a", true},
		{"$['a b']", "a b", true},
		{"$.a.b", "", false},
		{"$", "", false},
		{"$[0]", "", false},
		{"$['a','b']", "", false},
		{"$.*", "", false},
		{"$$.a", "", false},
		{"$v.a", "", false},
		{"$.a.length()", "", false},
	}
	for _, tt := range tests {
		p, err := Compile(tt.path)
		if err != nil {
			t.Fatalf("%s: %v", tt.path, err)
		}
		if name, ok := p.Member(); name != tt.name || ok != tt.ok {
			t.Errorf("%s: Member() = %q, %v; want %q, %v", tt.path, name, ok, tt.name, tt.ok)
		}
	}
}

func TestSetSharesUntouchedParts(t *testing.T) {
	doc := mustDoc(t, `{"a":{"x":[1,2]},"b":{"y":1}}`).(*value.Object)
	got, err := MustCompile("$.b.z").Set(doc, int64(2))
	if err != nil {
		t.Fatal(err)
	}
	oldA, _ := doc.Get("a")
	newA, _ := got.(*value.Object).Get("a")
	if oldA.(*value.Object) != newA.(*value.Object) {
		t.Error("Set copied a member it did not change")
	}
	oldB, _ := doc.Get("b")
	if value.String(oldB) != `{"y":1}` {
		t.Errorf("original member changed: %s", value.String(oldB))
	}
}

func TestIsPath(t *testing.T) {
	for s, want := range map[string]bool{"$": true, "$.a": true, "$$": true, "$x": true, "": false, "a": false, " $": false} {
		if IsPath(s) != want {
			t.Errorf("IsPath(%q) = %v", s, !want)
		}
	}
}

func TestGetAllocations(t *testing.T) {
	doc := mustDoc(t, `{"a":{"b":[{"c":1},2]}}`)
	p := MustCompile("$.a.b[0]")
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := p.Get(doc); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Get on a simple definite path allocates %v times", allocs)
	}
}

func BenchmarkGetSimple(b *testing.B) {
	doc := mustDoc(b, `{"a":{"b":[{"c":1},2],"z":0},"y":[1,2,3]}`)
	p := MustCompile("$.a.b[0]")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Get(doc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetFilter(b *testing.B) {
	doc := mustDoc(b, storeDoc)
	p := MustCompile("$.store.book[?(@.price < 10)].title")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Get(doc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile("$.store.book[0].title"); err != nil {
			b.Fatal(err)
		}
	}
}
