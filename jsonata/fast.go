package jsonata

import (
	"math"
	"math/big"
	"strconv"

	"github.com/stepwell/stepwell/value"
)

// The fast path evaluates the simplest, most common expressions directly on
// value types, without converting the input for the JSONata library:
//
//   - literals: numbers, strings without escapes, true, false, null;
//   - paths of plain names into $states.input, $states.result,
//     $states.context, $states.errorOutput or a variable ($x.y.z);
//   - arithmetic (+, -, *, /) on numbers and & on strings;
//   - comparisons of those (=, !=, <, <=, >, >=), and/or of comparisons,
//     paths and literals;
//   - $merge([<path>, {'key': <literal or path>, …}]).
//
// A fast node answers only when it can do so exactly as JSONata would: a
// path that meets an array before its last step, a comparison of values of
// different or structured types, non-ASCII-range strings in an ordering and
// so on make it give up (ok=false), and the expression is evaluated by the
// library instead. Every fast node is pure, so giving up midway is safe.
type fastNode interface {
	// fast returns the node's value and whether it is defined; ok is false
	// when the node cannot answer exactly.
	fast(env *Env) (v any, defined, ok bool)
}

type fastLiteral struct{ v any }

func (n fastLiteral) fast(*Env) (any, bool, bool) { return n.v, true, true }

// Roots of a fast path.
const (
	rootInput = iota
	rootResult
	rootContext
	rootErrorOutput
	rootVar
)

type fastPath struct {
	root  int
	name  string // the variable, for rootVar
	steps []string
}

func (n *fastPath) fast(env *Env) (any, bool, bool) {
	var v any
	switch n.root {
	case rootInput:
		v = env.Input
	case rootContext:
		v = env.Context
	case rootResult:
		if !env.HasResult {
			return nil, false, true
		}
		v = env.Result
	case rootErrorOutput:
		if !env.HasErrorOutput {
			return nil, false, true
		}
		v = env.ErrorOutput
	case rootVar:
		if env.Vars == nil {
			return nil, false, true
		}
		var found bool
		if v, found = env.Vars.Var(n.name); !found {
			return nil, false, true
		}
		if len(n.steps) == 0 {
			return v, true, true
		}
	}
	for _, step := range n.steps {
		switch x := v.(type) {
		case *value.Object:
			var found bool
			if v, found = x.Get(step); !found {
				return nil, false, true
			}
		case []any:
			return nil, false, false // JSONata maps the step over the array
		default:
			return nil, false, true // a name step on a scalar or null is undefined
		}
	}
	return v, true, true
}

type fastCompare struct {
	op   compareOp
	l, r fastNode
}

type compareOp uint8

const (
	opEq compareOp = iota
	opNe
	opLt
	opLe
	opGt
	opGe
)

var compareOps = []struct {
	text string
	op   compareOp
}{{"!=", opNe}, {"<=", opLe}, {">=", opGe}, {"=", opEq}, {"<", opLt}, {">", opGt}}

func (n *fastCompare) fast(env *Env) (any, bool, bool) {
	l, ldef, ok := n.l.fast(env)
	if !ok {
		return nil, false, false
	}
	r, rdef, ok := n.r.fast(env)
	if !ok {
		return nil, false, false
	}
	if n.op == opEq || n.op == opNe {
		if !ldef || !rdef {
			return false, true, true
		}
		eq, ok := scalarEqual(l, r)
		if !ok {
			return nil, false, false
		}
		return eq == (n.op == opEq), true, true
	}
	// Orderings: undefined when a side is undefined (and the other is
	// comparable), an error for other types (left to the library).
	if !ldef || !rdef {
		if (ldef && !orderable(l)) || (rdef && !orderable(r)) {
			return nil, false, false
		}
		return nil, false, true
	}
	var c int
	if lf, lok := fastFloat(l); lok {
		rf, rok := fastFloat(r)
		if !rok {
			return nil, false, false
		}
		switch {
		case lf < rf:
			c = -1
		case lf > rf:
			c = 1
		case lf != rf: // NaN cannot occur in values
			return nil, false, false
		}
	} else {
		ls, lok := l.(string)
		rs, rok := r.(string)
		if !lok || !rok || !utf16Ordered(ls) || !utf16Ordered(rs) {
			return nil, false, false
		}
		switch {
		case ls < rs:
			c = -1
		case ls > rs:
			c = 1
		}
	}
	switch n.op {
	case opLt:
		return c < 0, true, true
	case opLe:
		return c <= 0, true, true
	case opGt:
		return c > 0, true, true
	}
	return c >= 0, true, true
}

// orderable reports whether v is a string or number (what JSONata orders).
func orderable(v any) bool {
	switch v.(type) {
	case string, int64, float64, *big.Int:
		return true
	}
	return false
}

// utf16Ordered reports whether byte order and JavaScript's UTF-16 code unit
// order agree for s: they differ only for characters from U+E000 up.
func utf16Ordered(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0xEE {
			return false
		}
	}
	return true
}

// fastFloat returns a number as JavaScript sees it (a double).
func fastFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

// scalarEqual is JSONata's = for scalars; ok is false for objects, arrays
// and big numbers (deep equality is left to the library).
func scalarEqual(l, r any) (eq, ok bool) {
	switch x := l.(type) {
	case nil:
		switch r.(type) {
		case []any, *value.Object, *big.Int:
			return false, false
		}
		return r == nil, true
	case bool:
		switch y := r.(type) {
		case []any, *value.Object, *big.Int:
			return false, false
		case bool:
			return x == y, true
		}
		return false, true
	case string:
		switch y := r.(type) {
		case []any, *value.Object, *big.Int:
			return false, false
		case string:
			return x == y, true
		}
		return false, true
	case int64, float64:
		lf, _ := fastFloat(l)
		switch r.(type) {
		case []any, *value.Object, *big.Int:
			return false, false
		case int64, float64:
			rf, _ := fastFloat(r)
			return lf == rf, true
		}
		return false, true
	}
	return false, false
}

type fastLogic struct {
	and  bool
	l, r fastNode
}

func (n *fastLogic) fast(env *Env) (any, bool, bool) {
	l, ldef, ok := n.l.fast(env)
	if !ok {
		return nil, false, false
	}
	lb, ok := truthy(l, ldef)
	if !ok {
		return nil, false, false
	}
	if n.and && !lb {
		return false, true, true
	}
	if !n.and && lb {
		return true, true, true
	}
	r, rdef, ok := n.r.fast(env)
	if !ok {
		return nil, false, false
	}
	rb, ok := truthy(r, rdef)
	if !ok {
		return nil, false, false
	}
	return rb, true, true
}

// truthy is JSONata's boolean cast; arrays are left to the library.
func truthy(v any, defined bool) (b, ok bool) {
	if !defined {
		return false, true
	}
	switch x := v.(type) {
	case nil:
		return false, true
	case bool:
		return x, true
	case string:
		return x != "", true
	case int64:
		return x != 0, true
	case float64:
		return x != 0, true
	case *value.Object:
		return x.Len() > 0, true
	}
	return false, false
}

// fastArith is +, -, *, / on numbers (doubles, as JavaScript computes
// them) and & on strings.
type fastArith struct {
	op   byte
	l, r fastNode
}

func (n *fastArith) fast(env *Env) (any, bool, bool) {
	l, ldef, ok := n.l.fast(env)
	if !ok {
		return nil, false, false
	}
	r, rdef, ok := n.r.fast(env)
	if !ok {
		return nil, false, false
	}
	if n.op == '&' {
		// An undefined side counts as ""; other types are stringified by
		// the library.
		ls, lok := l.(string)
		rs, rok := r.(string)
		if (ldef && !lok) || (rdef && !rok) || len(ls)+len(rs) > MaxString {
			return nil, false, false
		}
		return ls + rs, true, true
	}
	lf, lok := fastFloat(l)
	rf, rok := fastFloat(r)
	if (ldef && !lok) || (rdef && !rok) {
		return nil, false, false // a type error, the library's to report
	}
	if !ldef || !rdef {
		return nil, false, true
	}
	var f float64
	switch n.op {
	case '+':
		f = lf + rf
	case '-':
		f = lf - rf
	case '*':
		f = lf * rf
	default:
		f = lf / rf
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, false, false // an error, the library's to report
	}
	return canonical(f), true, true
}

// fastMerge is $merge([base, {k: v, …}]).
type fastMerge struct {
	base fastNode
	keys []string
	vals []fastNode
}

func (n *fastMerge) fast(env *Env) (any, bool, bool) {
	b, bdef, ok := n.base.fast(env)
	if !ok {
		return nil, false, false
	}
	var base *value.Object
	if bdef {
		if base, ok = b.(*value.Object); !ok {
			return nil, false, false
		}
	}
	out := base.Copy() // room for one more member

	for i, k := range n.keys {
		v, def, ok := n.vals[i].fast(env)
		if !ok {
			return nil, false, false
		}
		if def {
			out.Set(k, v)
		}
	}
	return out, true, true
}

// canonical returns v with its numbers as the library's results have them
// (an integral double within int64's range is an int64), copying only the
// containers that change.
func canonical(v any) any {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<63 {
			return int64(x)
		}
	case []any:
		for i, e := range x {
			if c := canonical(e); !same(c, e) {
				out := make([]any, len(x))
				copy(out, x[:i])
				out[i] = c
				for j := i + 1; j < len(x); j++ {
					out[j] = canonical(x[j])
				}
				return out
			}
		}
	case *value.Object:
		for i := range x.Len() {
			k, e := x.At(i)
			if c := canonical(e); !same(c, e) {
				out := value.NewObject(x.Len())
				for j := range i {
					out.Set(x.At(j))
				}
				out.Set(k, c)
				for j := i + 1; j < x.Len(); j++ {
					kj, ej := x.At(j)
					out.Set(kj, canonical(ej))
				}
				return out
			}
		}
	}
	return v
}

// same reports whether canonical left e as it was.
func same(c, e any) bool {
	switch e.(type) {
	case float64:
		_, changed := c.(int64)
		return !changed
	case []any, *value.Object:
		switch cc := c.(type) {
		case []any:
			ee := e.([]any)
			return len(cc) == 0 || len(ee) == 0 || &cc[0] == &ee[0]
		case *value.Object:
			return cc == e.(*value.Object)
		}
	}
	return true
}

// parseFast compiles src to a fast node, or nil when src is outside the
// fast path's grammar.
func parseFast(src string) fastNode {
	p := &fastParser{src: src}
	n := p.or()
	p.space()
	if n == nil || p.pos != len(src) {
		return nil
	}
	return n
}

type fastParser struct {
	src string
	pos int
}

func (p *fastParser) space() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// word consumes the keyword w if it is next (followed by a non-name byte).
func (p *fastParser) word(w string) bool {
	p.space()
	end := p.pos + len(w)
	if end > len(p.src) || p.src[p.pos:end] != w || (end < len(p.src) && isNameByte(p.src[end])) {
		return false
	}
	p.pos = end
	return true
}

func (p *fastParser) punct(s string) bool {
	p.space()
	if len(p.src)-p.pos >= len(s) && p.src[p.pos:p.pos+len(s)] == s {
		p.pos += len(s)
		return true
	}
	return false
}

func (p *fastParser) or() fastNode {
	l := p.and()
	for l != nil && p.word("or") {
		r := p.and()
		if r == nil {
			return nil
		}
		l = &fastLogic{and: false, l: l, r: r}
	}
	return l
}

func (p *fastParser) and() fastNode {
	l := p.compare()
	for l != nil && p.word("and") {
		r := p.compare()
		if r == nil {
			return nil
		}
		l = &fastLogic{and: true, l: l, r: r}
	}
	return l
}

func (p *fastParser) compare() fastNode {
	l := p.additive()
	if l == nil {
		return nil
	}
	for _, c := range compareOps {
		if p.punct(c.text) {
			r := p.additive()
			if r == nil {
				return nil
			}
			return &fastCompare{op: c.op, l: l, r: r}
		}
	}
	return l
}

// additive reads products joined by +, - and &.
func (p *fastParser) additive() fastNode {
	l := p.multiplicative()
	for l != nil {
		p.space()
		if p.pos >= len(p.src) {
			return l
		}
		op := p.src[p.pos]
		if op != '+' && op != '-' && op != '&' {
			return l
		}
		p.pos++
		r := p.multiplicative()
		if r == nil {
			return nil
		}
		l = &fastArith{op: op, l: l, r: r}
	}
	return l
}

// multiplicative reads primaries joined by * and /.
func (p *fastParser) multiplicative() fastNode {
	l := p.primary()
	for l != nil {
		p.space()
		if p.pos >= len(p.src) {
			return l
		}
		op := p.src[p.pos]
		if op != '*' && op != '/' || p.pos+1 < len(p.src) && p.src[p.pos+1] == '*' { // not ** or a /* comment
			return l
		}
		p.pos++
		r := p.primary()
		if r == nil {
			return nil
		}
		l = &fastArith{op: op, l: l, r: r}
	}
	return l
}

func (p *fastParser) primary() fastNode {
	p.space()
	if p.pos >= len(p.src) {
		return nil
	}
	switch c := p.src[p.pos]; {
	case c == '$':
		if p.word("$merge") {
			return p.merge()
		}
		return p.path()
	case c == '\'' || c == '"':
		s, ok := p.str()
		if !ok {
			return nil
		}
		return fastLiteral{s}
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case p.word("true"):
		return fastLiteral{true}
	case p.word("false"):
		return fastLiteral{false}
	case p.word("null"):
		return fastLiteral{nil}
	}
	return nil
}

// str reads a quoted string without escapes.
func (p *fastParser) str() (string, bool) {
	q := p.src[p.pos]
	for i := p.pos + 1; i < len(p.src); i++ {
		switch p.src[i] {
		case '\\':
			return "", false
		case q:
			s := p.src[p.pos+1 : i]
			p.pos = i + 1
			return s, true
		}
	}
	return "", false
}

// number reads a JSONata number literal (an optional minus: unary negation
// of a literal is its negative).
func (p *fastParser) number() fastNode {
	start := p.pos
	i := p.pos
	if p.src[i] == '-' {
		i++
	}
	digits := func() bool {
		s := i
		for i < len(p.src) && p.src[i] >= '0' && p.src[i] <= '9' {
			i++
		}
		return i > s
	}
	if i < len(p.src) && p.src[i] == '0' {
		i++
	} else if !digits() {
		return nil
	}
	if i < len(p.src) && p.src[i] == '.' {
		i++
		if !digits() {
			return nil
		}
	}
	if i < len(p.src) && (p.src[i] == 'e' || p.src[i] == 'E') {
		i++
		if i < len(p.src) && (p.src[i] == '+' || p.src[i] == '-') {
			i++
		}
		if !digits() {
			return nil
		}
	}
	if i < len(p.src) && (isNameByte(p.src[i]) || p.src[i] == '.') {
		return nil
	}
	f, err := strconv.ParseFloat(p.src[start:i], 64)
	if err != nil || math.IsInf(f, 0) {
		return nil
	}
	p.pos = i
	return fastLiteral{canonical(f)}
}

// name reads a plain name or a `quoted` one.
func (p *fastParser) name() (string, bool) {
	p.space()
	if p.pos < len(p.src) && p.src[p.pos] == '`' {
		for i := p.pos + 1; i < len(p.src); i++ {
			if p.src[i] == '`' {
				s := p.src[p.pos+1 : i]
				p.pos = i + 1
				return s, true
			}
		}
		return "", false
	}
	start := p.pos
	for p.pos < len(p.src) && isNameByte(p.src[p.pos]) && p.src[p.pos] < 0x80 {
		p.pos++
	}
	s := p.src[start:p.pos]
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return "", false
	}
	switch s {
	case "and", "or", "in", "true", "false", "null", "function":
		return "", false
	}
	return s, true
}

func (p *fastParser) path() fastNode {
	p.pos++ // '$'
	start := p.pos
	for p.pos < len(p.src) && isNameByte(p.src[p.pos]) && p.src[p.pos] < 0x80 {
		p.pos++
	}
	v := p.src[start:p.pos]
	if v == "" {
		return nil
	}
	n := &fastPath{root: rootVar, name: v}
	for p.punct(".") {
		s, ok := p.name()
		if !ok {
			return nil
		}
		n.steps = append(n.steps, s)
	}
	p.space()
	if p.pos < len(p.src) {
		switch p.src[p.pos] {
		case '[', '(', '{', '.', '^', '#', '@', '%', ':', '~':
			return nil // a predicate, call, constructor, sort, binding, …
		}
	}
	if v == "states" {
		if len(n.steps) == 0 {
			return nil
		}
		switch n.steps[0] {
		case "input":
			n.root = rootInput
		case "result":
			n.root = rootResult
		case "context":
			n.root = rootContext
		case "errorOutput":
			n.root = rootErrorOutput
		default:
			return nil
		}
		n.name, n.steps = "", n.steps[1:]
	}
	return n
}

// merge reads ([<path>, {'k': <literal or path>, …}]) after "$merge".
func (p *fastParser) merge() fastNode {
	if !p.punct("(") || !p.punct("[") {
		return nil
	}
	p.space()
	if p.pos >= len(p.src) || p.src[p.pos] != '$' {
		return nil
	}
	base, ok := p.path().(*fastPath)
	if !ok || base == nil || !p.punct(",") || !p.punct("{") {
		return nil
	}
	m := &fastMerge{base: base}
	for !p.punct("}") {
		if len(m.keys) > 0 && !p.punct(",") {
			return nil
		}
		p.space()
		if p.pos >= len(p.src) || (p.src[p.pos] != '\'' && p.src[p.pos] != '"') {
			return nil
		}
		k, ok := p.str()
		if !ok || !p.punct(":") {
			return nil
		}
		v := p.primary()
		if v == nil {
			return nil
		}
		for _, prev := range m.keys {
			if prev == k {
				return nil // JSONata rejects duplicate keys (D1009)
			}
		}
		m.keys = append(m.keys, k)
		m.vals = append(m.vals, v)
	}
	if !p.punct("]") || !p.punct(")") {
		return nil
	}
	return m
}

func isNameByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
