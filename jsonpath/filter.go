package jsonpath

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"github.com/stepwell/stepwell/value"
)

// filterExpr is a compiled Jayway inline filter [?(…)].
//
// Jayway's filter grammar has no operator precedence: "a && b || c" means
// "a && (b || c)". A '!' only negates an existence check such as !@.x; before
// a parenthesis it is ignored. Both quirks are reproduced.
type filterExpr struct {
	op          byte // '&' and, '|' or, 0 relational
	left, right *filterExpr
	rel         *relation
}

// relation is one comparison, or an existence check when op is opExists.
type relation struct {
	op          string
	left, right operand
	want        bool // opExists: whether the path must exist
}

const opExists = "exists"

type fkind uint8

const (
	fUndef fkind = iota
	fNull
	fBool
	fNum
	fStr
	fJSON // array or object
	fPattern
)

// fval is a value inside a filter, as Jayway's ValueNode.
type fval struct {
	k   fkind
	v   any
	re  *regexp.Regexp
	src string
}

// operand is a literal or a path (relative to "@" or to the root "$").
type operand struct {
	path *Path
	lit  fval
}

// errFilter makes the whole filter reject the item (Jayway catches the
// InvalidPathException it throws and treats the predicate as false).
var errFilter = errors.New("filter evaluation failed")

// accept reports whether item passes the filter; root is the document "$".
func (f *filterExpr) accept(root, item any) bool {
	ok, err := f.eval(root, item, 0)
	return err == nil && ok
}

func (f *filterExpr) eval(root, item any, depth int) (bool, error) {
	if depth > maxNesting*4 {
		return false, errFilter
	}
	switch f.op {
	case '&':
		ok, err := f.left.eval(root, item, depth+1)
		if err != nil || !ok {
			return false, err
		}
		return f.right.eval(root, item, depth+1)
	case '|':
		ok, err := f.left.eval(root, item, depth+1)
		if err != nil || ok {
			return ok, err
		}
		return f.right.eval(root, item, depth+1)
	}
	return f.rel.eval(root, item)
}

func (o *operand) value(root, item any) fval {
	if o.path == nil {
		return o.lit
	}
	doc := root
	if o.path.current {
		doc = item
	}
	if o.path.definite {
		v, err := o.path.Get(doc)
		if err != nil {
			return fval{k: fUndef}
		}
		return toFval(v)
	}
	return fval{k: fJSON, v: o.path.getIndefinite(doc, root)}
}

// exists is the existence check of an operand path.
func (o *operand) exists(root, item any) bool {
	doc := root
	if o.path.current {
		doc = item
	}
	if !o.path.definite {
		return len(o.path.getIndefinite(doc, root)) > 0
	}
	_, err := o.path.Get(doc)
	return err == nil
}

func toFval(v any) fval {
	switch v.(type) {
	case nil:
		return fval{k: fNull}
	case bool:
		return fval{k: fBool, v: v}
	case string:
		return fval{k: fStr, v: v}
	case int64, float64, *big.Int:
		return fval{k: fNum, v: v}
	case []any, *value.Object:
		return fval{k: fJSON, v: v}
	}
	return fval{k: fUndef}
}

func (r *relation) eval(root, item any) (bool, error) {
	if r.op == opExists {
		return r.left.exists(root, item) == r.want, nil
	}
	l := r.left.value(root, item)
	rv := r.right.value(root, item)
	switch r.op {
	case "==":
		return fEqual(l, rv), nil
	case "!=":
		return !fEqual(l, rv), nil
	case "===":
		return l.k == rv.k && fEqual(l, rv), nil
	case "!==":
		return !(l.k == rv.k && fEqual(l, rv)), nil
	case "<":
		c, ok := fCompare(l, rv)
		return ok && c < 0, nil
	case "<=":
		c, ok := fCompare(l, rv)
		return ok && c <= 0, nil
	case ">":
		c, ok := fCompare(l, rv)
		return ok && c > 0, nil
	case ">=":
		c, ok := fCompare(l, rv)
		return ok && c >= 0, nil
	case "=~":
		return fMatch(l, rv), nil
	case "in", "nin":
		list, err := valueList(rv)
		if err != nil {
			return false, err
		}
		in := false
		for _, e := range list {
			if fEqual(l, toFval(e)) {
				in = true
				break
			}
		}
		if r.op == "nin" {
			return list == nil || !in, nil
		}
		return in, nil
	case "contains":
		if l.k == fStr && rv.k == fStr {
			return strings.Contains(l.v.(string), rv.v.(string)), nil
		}
		if a, ok := l.v.([]any); ok && l.k == fJSON {
			for _, e := range a {
				if fEqual(rv, toFval(e)) {
					return true, nil
				}
			}
		}
		return false, nil
	case "size":
		if rv.k != fNum {
			return false, nil
		}
		f, _ := value.ToFloat(rv.v)
		want := int(f)
		switch x := l.v.(type) {
		case string:
			return javaLen(x) == want, nil
		case []any:
			return len(x) == want, nil
		case *value.Object:
			return x.Len() == want, nil
		}
		return false, nil
	case "empty":
		b, ok := rv.v.(bool)
		if rv.k != fBool || !ok {
			return false, errFilter
		}
		switch x := l.v.(type) {
		case string:
			return (x == "") == b, nil
		case []any:
			return (len(x) == 0) == b, nil
		case *value.Object:
			return (x.Len() == 0) == b, nil
		}
		return false, nil
	case "subsetof", "anyof", "noneof":
		right, err := valueList(rv)
		if err != nil {
			return false, err
		}
		left, ok := l.v.([]any)
		if right == nil || l.k != fJSON || !ok {
			return false, nil
		}
		contains := func(e any) bool {
			for _, x := range right {
				if fEqual(toFval(e), toFval(x)) {
					return true
				}
			}
			return false
		}
		switch r.op {
		case "subsetof":
			for _, e := range left {
				if !contains(e) {
					return false, nil
				}
			}
			return true, nil
		case "anyof":
			for _, e := range left {
				if contains(e) {
					return true, nil
				}
			}
			return false, nil
		}
		for _, e := range left {
			if contains(e) {
				return false, nil
			}
		}
		return true, nil
	}
	return false, errFilter
}

// valueList is Jayway's asValueListNode: the elements of an array value, nil
// (no list) for an object or a path result that is not an array, and an
// error for a literal that is not a list.
func valueList(v fval) ([]any, error) {
	if v.k != fJSON {
		return nil, errFilter
	}
	a, ok := v.v.([]any)
	if !ok {
		return nil, nil
	}
	if a == nil {
		a = []any{}
	}
	return a, nil
}

// numString is the text Jayway gives a number when comparing it to a string.
func numString(v any) string { return value.String(v) }

// fEqual is Jayway's ValueNode equality, driven by the left operand's kind.
func fEqual(l, r fval) bool {
	switch l.k {
	case fUndef:
		return r.k == fUndef
	case fNull:
		return r.k == fNull
	case fBool:
		return r.k == fBool && l.v == r.v
	case fNum:
		switch r.k {
		case fNum:
			return value.Compare(l.v, r.v) == 0
		case fStr:
			n, ok := parseLiteralNumber(r.v.(string))
			return ok && value.Compare(l.v, n) == 0
		}
		return false
	case fStr:
		switch r.k {
		case fStr:
			return l.v.(string) == r.v.(string)
		case fNum:
			return l.v.(string) == numString(r.v)
		}
		return false
	case fJSON:
		return r.k == fJSON && value.Equal(l.v, r.v)
	case fPattern:
		return r.k == fPattern && l.src == r.src
	}
	return false
}

// fCompare orders two filter values as Jayway's <, <=, >, >= do.
func fCompare(l, r fval) (int, bool) {
	switch {
	case l.k == fNum && r.k == fNum:
		return value.Compare(l.v, r.v), true
	case l.k == fStr && r.k == fStr:
		return strings.Compare(l.v.(string), r.v.(string)), true
	case l.k == fStr && r.k == fNum:
		return strings.Compare(l.v.(string), numString(r.v)), true
	case l.k == fNum && r.k == fStr:
		return strings.Compare(numString(l.v), r.v.(string)), true
	}
	return 0, false
}

// fMatch is Jayway's =~: exactly one side is a /pattern/, matched against
// the whole text of the other side (or any element of a list).
func fMatch(l, r fval) bool {
	if (l.k == fPattern) == (r.k == fPattern) {
		return false
	}
	pat, other := l, r
	if r.k == fPattern {
		pat, other = r, l
	}
	input := func(v fval) string {
		switch v.k {
		case fStr:
			return v.v.(string)
		case fNum:
			return numString(v.v)
		case fBool:
			return strconv.FormatBool(v.v.(bool))
		}
		return ""
	}
	if a, ok := other.v.([]any); ok && other.k == fJSON {
		for _, e := range a {
			if pat.re.MatchString(input(toFval(e))) {
				return true
			}
		}
		return false
	}
	return pat.re.MatchString(input(other))
}

// parseLiteralNumber parses number text as Java's BigDecimal would accept it.
func parseLiteralNumber(s string) (any, bool) {
	if v, ok := value.ParseNumber(s); ok {
		return v, true
	}
	if s == "" || strings.ContainsAny(s, "xXpP_iInN") {
		return nil, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, false
	}
	return f, true
}

// parseFilter compiles the parenthesised criteria of [?(…)].
func parseFilter(s string, depth int) (*filterExpr, error) {
	fp := filterParser{s: s, depth: depth}
	e, err := fp.expr(0)
	if err != nil {
		return nil, err
	}
	fp.skip()
	if fp.pos < len(fp.s) {
		return nil, fmt.Errorf("unexpected %q at position %d", fp.s[fp.pos], fp.pos)
	}
	return e, nil
}

type filterParser struct {
	s     string
	pos   int
	depth int
}

func (fp *filterParser) skip() {
	for fp.pos < len(fp.s) && isBlank(fp.s[fp.pos]) {
		fp.pos++
	}
}

func (fp *filterParser) peek() byte {
	if fp.pos < len(fp.s) {
		return fp.s[fp.pos]
	}
	return 0
}

// expr := unary [("&&" | "||") expr]   (right associative, no precedence)
func (fp *filterParser) expr(nest int) (*filterExpr, error) {
	if nest > maxNesting {
		return nil, errors.New("filter nested too deeply")
	}
	left, err := fp.unary(nest)
	if err != nil {
		return nil, err
	}
	fp.skip()
	if fp.pos+1 < len(fp.s) {
		two := fp.s[fp.pos : fp.pos+2]
		if two == "&&" || two == "||" {
			fp.pos += 2
			right, err := fp.expr(nest + 1)
			if err != nil {
				return nil, err
			}
			return &filterExpr{op: two[0], left: left, right: right}, nil
		}
	}
	if c := fp.peek(); c == '&' || c == '|' {
		return nil, errors.New("expected logical operator")
	}
	return left, nil
}

func (fp *filterParser) unary(nest int) (*filterExpr, error) {
	fp.skip()
	bang := false
	for fp.peek() == '!' {
		bang = true
		fp.pos++
		fp.skip()
	}
	if fp.peek() == '(' {
		fp.pos++
		e, err := fp.expr(nest + 1)
		if err != nil {
			return nil, err
		}
		fp.skip()
		if fp.peek() != ')' {
			return nil, errors.New("brackets are not balanced")
		}
		fp.pos++
		return e, nil
	}
	return fp.relation(bang)
}

func (fp *filterParser) relation(bang bool) (*filterExpr, error) {
	left, err := fp.operand()
	if err != nil {
		return nil, err
	}
	fp.skip()
	if c := fp.peek(); c == 0 || c == ')' || c == '&' || c == '|' {
		if left.path == nil {
			return nil, errors.New("expected a path for an existence check")
		}
		return &filterExpr{rel: &relation{op: opExists, left: left, want: !bang}}, nil
	}
	op, err := fp.operator()
	if err != nil {
		return nil, err
	}
	right, err := fp.operand()
	if err != nil {
		return nil, err
	}
	return &filterExpr{rel: &relation{op: op, left: left, right: right}}, nil
}

func isRelChar(c byte) bool { return c == '<' || c == '>' || c == '=' || c == '~' || c == '!' }

func (fp *filterParser) operator() (string, error) {
	begin := fp.pos
	if isRelChar(fp.peek()) {
		for fp.pos < len(fp.s) && isRelChar(fp.s[fp.pos]) {
			fp.pos++
		}
	} else {
		for fp.pos < len(fp.s) && fp.s[fp.pos] != ' ' {
			fp.pos++
		}
	}
	op := strings.ToLower(fp.s[begin:fp.pos])
	switch op {
	case "==", "!=", "===", "!==", "<", "<=", ">", ">=", "=~",
		"in", "nin", "contains", "size", "empty", "subsetof", "anyof", "noneof":
		return op, nil
	}
	return "", fmt.Errorf("filter operator %q is not supported", op)
}

func (fp *filterParser) operand() (operand, error) {
	fp.skip()
	if fp.pos >= len(fp.s) {
		return operand{}, errors.New("expected a value")
	}
	switch c := fp.s[fp.pos]; c {
	case '$', '@':
		return fp.path()
	case '\'', '"':
		end := skipQuoted(fp.s, fp.pos, c)
		if end < 0 {
			return operand{}, fmt.Errorf("string not closed, expected %c", c)
		}
		s := unescape(fp.s[fp.pos+1 : end])
		fp.pos = end + 1
		return operand{lit: fval{k: fStr, v: s}}, nil
	case 't', 'f', 'n':
		for _, w := range [...]string{"true", "false", "null"} {
			if strings.HasPrefix(fp.s[fp.pos:], w) {
				fp.pos += len(w)
				if w == "null" {
					return operand{lit: fval{k: fNull}}, nil
				}
				return operand{lit: fval{k: fBool, v: w == "true"}}, nil
			}
		}
		return operand{}, errors.New("expected a boolean or null literal")
	case '[', '{':
		v, n, err := parseLenient(fp.s[fp.pos:], 0)
		if err != nil {
			return operand{}, err
		}
		fp.pos += n
		return operand{lit: fval{k: fJSON, v: v}}, nil
	case '/':
		end := skipQuoted(fp.s, fp.pos, '/')
		if end < 0 {
			return operand{}, errors.New("pattern not closed, expected /")
		}
		src := fp.s[fp.pos+1 : end]
		expr := "^(?:" + src + ")$"
		fp.pos = end + 1
		if fp.peek() == 'i' {
			expr = "(?i)" + expr
			fp.pos++
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return operand{}, fmt.Errorf("invalid regular expression /%s/: %w", src, err)
		}
		return operand{lit: fval{k: fPattern, re: re, src: fp.s[end-len(src)-1 : fp.pos]}}, nil
	}
	begin := fp.pos
	for fp.pos < len(fp.s) && strings.IndexByte("0123456789-+.eE", fp.s[fp.pos]) >= 0 {
		fp.pos++
	}
	n, ok := parseLiteralNumber(fp.s[begin:fp.pos])
	if !ok {
		return operand{}, fmt.Errorf("invalid literal at position %d", begin)
	}
	return operand{lit: fval{k: fNum, v: n}}, nil
}

// path reads a path operand the way Jayway's filter compiler delimits it: up
// to a relational operator character, a blank or a closing parenthesis that
// does not close a function call.
func (fp *filterParser) path() (operand, error) {
	begin := fp.pos
	fp.pos++
	for fp.pos < len(fp.s) {
		c := fp.s[fp.pos]
		if c == '[' {
			end := closingBracket(fp.s, fp.pos)
			if end < 0 {
				return operand{}, errors.New("square brackets do not match in filter")
			}
			fp.pos = end + 1
			continue
		}
		if isRelChar(c) || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			break
		}
		if c == ')' {
			if prevSignificant(fp.s[:fp.pos], fp.pos) != '(' || strings.IndexByte(fp.s[begin:fp.pos], '.') < 0 {
				break
			}
		}
		fp.pos++
	}
	p, err := compileDepth(fp.s[begin:fp.pos], true, fp.depth+1)
	if err != nil {
		return operand{}, err
	}
	return operand{path: p}, nil
}

// closingBracket returns the index of the ']' matching the '[' at open,
// skipping quoted strings, or -1.
func closingBracket(s string, open int) int {
	depth := 0
	for i := open; i < len(s); i++ {
		switch c := s[i]; c {
		case '[':
			depth++
		case ']':
			depth--
			if depth == 0 {
				return i
			}
		case '\'', '"':
			j := skipQuoted(s, i, c)
			if j < 0 {
				return -1
			}
			i = j
		}
	}
	return -1
}

// parseLenient parses a JSON literal in a filter, also accepting
// single-quoted strings as Jayway's JSON parser does. It returns the value
// and the number of bytes read.
func parseLenient(s string, depth int) (any, int, error) {
	if depth > maxNesting {
		return nil, 0, errors.New("JSON literal nested too deeply")
	}
	i := 0
	skip := func() {
		for i < len(s) && isBlank(s[i]) {
			i++
		}
	}
	skip()
	if i >= len(s) {
		return nil, 0, errors.New("unexpected end of JSON literal")
	}
	switch c := s[i]; c {
	case '[':
		i++
		arr := []any{}
		skip()
		if i < len(s) && s[i] == ']' {
			return arr, i + 1, nil
		}
		for {
			v, n, err := parseLenient(s[i:], depth+1)
			if err != nil {
				return nil, 0, err
			}
			arr = append(arr, v)
			i += n
			skip()
			if i >= len(s) {
				return nil, 0, errors.New("unterminated JSON array literal")
			}
			if s[i] == ']' {
				return arr, i + 1, nil
			}
			if s[i] != ',' {
				return nil, 0, fmt.Errorf("unexpected %q in JSON array literal", s[i])
			}
			i++
		}
	case '{':
		i++
		obj := value.NewObject(2)
		skip()
		if i < len(s) && s[i] == '}' {
			return obj, i + 1, nil
		}
		for {
			skip()
			if i >= len(s) || (s[i] != '"' && s[i] != '\'') {
				return nil, 0, errors.New("expected a quoted key in JSON object literal")
			}
			end := skipQuoted(s, i, s[i])
			if end < 0 {
				return nil, 0, errors.New("unterminated string in JSON literal")
			}
			key := unescape(s[i+1 : end])
			i = end + 1
			skip()
			if i >= len(s) || s[i] != ':' {
				return nil, 0, errors.New("expected ':' in JSON object literal")
			}
			i++
			v, n, err := parseLenient(s[i:], depth+1)
			if err != nil {
				return nil, 0, err
			}
			obj.Set(key, v)
			i += n
			skip()
			if i >= len(s) {
				return nil, 0, errors.New("unterminated JSON object literal")
			}
			if s[i] == '}' {
				return obj, i + 1, nil
			}
			if s[i] != ',' {
				return nil, 0, fmt.Errorf("unexpected %q in JSON object literal", s[i])
			}
			i++
		}
	case '"', '\'':
		end := skipQuoted(s, i, c)
		if end < 0 {
			return nil, 0, errors.New("unterminated string in JSON literal")
		}
		return unescape(s[i+1 : end]), end + 1, nil
	}
	for _, w := range [...]string{"true", "false", "null"} {
		if strings.HasPrefix(s[i:], w) {
			var v any
			if w != "null" {
				v = w == "true"
			}
			return v, i + len(w), nil
		}
	}
	begin := i
	for i < len(s) && strings.IndexByte("0123456789-+.eE", s[i]) >= 0 {
		i++
	}
	n, ok := parseLiteralNumber(s[begin:i])
	if !ok {
		return nil, 0, fmt.Errorf("invalid value in JSON literal at %d", begin)
	}
	return n, i, nil
}
