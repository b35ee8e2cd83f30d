package asl

import (
	"time"
	"unicode/utf8"

	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/jsonpath"
	"github.com/stepwell/stepwell/value"
)

// Operand kinds of a data-test operator.
const (
	kString uint8 = iota + 1
	kNumeric
	kBoolean
	kTimestamp
	kIs // type tests
)

// Comparisons.
const (
	cmpEq uint8 = iota + 1
	cmpLt
	cmpGt
	cmpLe
	cmpGe
	cmpMatches
	isNull
	isPresent
	isNumeric
	isString
	isBoolean
	isTimestamp
)

type opInfo struct {
	kind, cmp uint8
	path      bool // *Path variant
}

// operators lists every JSONPath Choice comparison operator.
var operators = map[string]opInfo{}

func init() {
	kinds := []struct {
		prefix string
		kind   uint8
	}{{"String", kString}, {"Numeric", kNumeric}, {"Timestamp", kTimestamp}}
	cmps := []struct {
		suffix string
		cmp    uint8
	}{{"Equals", cmpEq}, {"LessThan", cmpLt}, {"GreaterThan", cmpGt}, {"LessThanEquals", cmpLe}, {"GreaterThanEquals", cmpGe}}
	for _, k := range kinds {
		for _, c := range cmps {
			operators[k.prefix+c.suffix] = opInfo{k.kind, c.cmp, false}
			operators[k.prefix+c.suffix+"Path"] = opInfo{k.kind, c.cmp, true}
		}
	}
	operators["StringMatches"] = opInfo{kString, cmpMatches, false}
	operators["BooleanEquals"] = opInfo{kBoolean, cmpEq, false}
	operators["BooleanEqualsPath"] = opInfo{kBoolean, cmpEq, true}
	operators["IsNull"] = opInfo{kIs, isNull, false}
	operators["IsPresent"] = opInfo{kIs, isPresent, false}
	operators["IsNumeric"] = opInfo{kIs, isNumeric, false}
	operators["IsString"] = opInfo{kIs, isString, false}
	operators["IsBoolean"] = opInfo{kIs, isBoolean, false}
	operators["IsTimestamp"] = opInfo{kIs, isTimestamp, false}
}

// choiceState loads a Choice state's rules.
func (l *loader) choiceState(st *State, o *value.Object, at string) {
	if d, ok := o.Get("Default"); ok {
		if s, isStr := d.(string); isStr {
			st.Default = s
		} else {
			l.schema(loc(at, "Default"), "Expected value of type [STRING]")
		}
	}
	if !l.required(o, at, "Choices") {
		return
	}
	cv, _ := o.Get("Choices")
	cat := loc(at, "Choices")
	arr, ok := l.nonEmptyArray(cv, cat)
	if !ok {
		return
	}
	for i, e := range arr {
		iat := locIdx(cat, i)
		ro, ok := e.(*value.Object)
		if !ok {
			l.schema(iat, "Expected value of type [OBJECT]")
			continue
		}
		st.Choices = append(st.Choices, l.choiceRule(ro, iat, st.QueryLanguage))
	}
}

// choiceRule loads a top-level rule (which has Next).
func (l *loader) choiceRule(o *value.Object, at string, ql QueryLanguage) *ChoiceRule {
	r := &ChoiceRule{}
	if !o.Has("Next") {
		l.schema(at, "These fields are required: [Next]")
	}
	r.Next = l.str(o, at, "Next")
	if ql == JSONata {
		for _, k := range o.Keys() {
			switch k {
			case "Condition", "Next", "Assign", "Output", "Comment":
			case "Variable", "And", "Or", "Not":
				l.schema(at, onlyFor(JSONata, k))
			default:
				if _, isOp := operators[k]; isOp {
					l.schema(at, onlyFor(JSONata, k))
				} else {
					l.schema(at, notSupported(k))
				}
			}
		}
		l.required(o, at, "Condition")
		if c, ok := o.Get("Condition"); ok {
			if _, isBool := c.(bool); !isBool && !isJSONata(c) {
				l.schema(loc(at, "Condition"), "The value for the field 'Condition' must be a boolean or a JSONata expression")
			}
			r.Condition = l.query(c, "Condition", loc(at, "Condition"), 0)
		}
		r.Assign = l.assign(o, at, JSONata, 0)
		r.Output = l.queryField(o, at, "Output", 0)
		return r
	}
	r.Assign = l.assign(o, at, JSONPath, 0)
	r.cond = l.condition(o, at, true)
	return r
}

// condition compiles a rule body. top is set for a top-level rule, whose
// Next, Assign and Comment are allowed.
func (l *loader) condition(o *value.Object, at string, top bool) condition {
	var ops []string
	hasVar := false
	for _, k := range o.Keys() {
		switch k {
		case "Variable":
			hasVar = true
		case "And", "Or", "Not":
			ops = append(ops, k)
		case "Next", "Assign":
			if !top {
				l.schema(at, notSupported(k))
			}
		case "Comment":
		case "Condition", "Output":
			l.schema(at, onlyFor(JSONPath, k))
		default:
			if _, ok := operators[k]; ok {
				ops = append(ops, k)
			} else {
				l.schema(at, notSupported(k))
			}
		}
	}
	if len(ops) == 0 {
		l.schema(at, "A Choice Rule must have a comparison operator or a boolean expression (And, Or, Not)")
		return nil
	}
	if len(ops) > 1 {
		l.schema(at, "Each Choice Rule can only have one comparison operator")
		return nil
	}
	op := ops[0]
	v, _ := o.Get(op)
	oat := loc(at, op)
	switch op {
	case "And", "Or":
		if hasVar {
			l.schema(at, notSupported("Variable"))
		}
		arr, ok := l.nonEmptyArray(v, oat)
		if !ok {
			return nil
		}
		b := &boolCond{or: op == "Or", kids: make([]condition, 0, len(arr))}
		for i, e := range arr {
			eo, ok := e.(*value.Object)
			if !ok {
				l.schema(locIdx(oat, i), "Expected value of type [OBJECT]")
				continue
			}
			if c := l.condition(eo, locIdx(oat, i), false); c != nil {
				b.kids = append(b.kids, c)
			}
		}
		return b
	case "Not":
		if hasVar {
			l.schema(at, notSupported("Variable"))
		}
		eo, ok := v.(*value.Object)
		if !ok {
			l.schema(oat, "Expected value of type [OBJECT]")
			return nil
		}
		c := l.condition(eo, oat, false)
		if c == nil {
			return nil
		}
		return &notCond{kid: c}
	}
	if !hasVar {
		l.schema(at, "These fields are required: [Variable]")
		return nil
	}
	vv, _ := o.Get("Variable")
	vs, ok := vv.(string)
	if !ok {
		l.schema(loc(at, "Variable"), "Expected value of type [STRING]")
		return nil
	}
	vp, err := jsonpath.Compile(vs)
	if err != nil {
		l.schema(loc(at, "Variable"), "The value for the field 'Variable' must be a valid JSONPath")
		return nil
	}
	info := operators[op]
	d := &dataTest{variable: vp, kind: info.kind, cmp: info.cmp, op: op}
	if info.path {
		s, ok := v.(string)
		if !ok {
			l.schema(oat, "Expected value of type [STRING]")
			return nil
		}
		p, err := jsonpath.Compile(s)
		if err != nil {
			l.schema(oat, "The value for the field '"+op+"' must be a valid JSONPath")
			return nil
		}
		d.path = p
		return d
	}
	switch info.kind {
	case kString:
		s, ok := v.(string)
		if !ok {
			l.schema(oat, "Expected value of type [STRING]")
			return nil
		}
		d.str = s
		if info.cmp == cmpMatches {
			pat, ok := compilePattern(s)
			if !ok {
				l.schema(oat, "The value for the field 'StringMatches' must be a valid pattern")
				return nil
			}
			d.pattern = pat
		}
	case kNumeric:
		f, ok := value.ToFloat(v)
		if !ok {
			l.schema(oat, "Expected value of type [NUMBER]")
			return nil
		}
		d.num = f
	case kBoolean, kIs:
		b, ok := v.(bool)
		if !ok {
			l.schema(oat, "Expected value of type [BOOLEAN]")
			return nil
		}
		d.b = b
	case kTimestamp:
		s, ok := v.(string)
		if !ok {
			l.schema(oat, "Expected value of type [STRING]")
			return nil
		}
		t, ok := parseTimestamp(s)
		if !ok {
			l.schema(oat, "String does not match RFC3339 timestamp")
			return nil
		}
		d.ts = t
	}
	return d
}

// boolCond is And (or=false) or Or (or=true).
type boolCond struct {
	or   bool
	kids []condition
}

func (c *boolCond) match(env *Env) (bool, error) {
	for _, k := range c.kids {
		m, err := k.match(env)
		if err != nil {
			return false, err
		}
		if m == c.or {
			return m, nil
		}
	}
	return !c.or, nil
}

type notCond struct{ kid condition }

func (c *notCond) match(env *Env) (bool, error) {
	m, err := c.kid.match(env)
	return !m, err
}

// dataTest is Variable plus one comparison operator.
type dataTest struct {
	variable *jsonpath.Path
	op       string
	kind     uint8
	cmp      uint8
	path     *jsonpath.Path // *Path variants
	str      string
	num      float64
	b        bool
	ts       time.Time
	pattern  pattern
}

// lookup reads a path for a Choice rule: ok is false when it selects
// nothing.
func (env *Env) lookup(p *jsonpath.Path) (v any, ok bool, err error) {
	d, found := env.doc(p)
	if !found {
		return nil, false, nil
	}
	v, err = p.Get(d)
	if err != nil {
		if _, isFault := fault.As(err); isFault {
			return nil, false, env.withPrefix(err)
		}
		return nil, false, nil
	}
	return v, true, nil
}

// invalidPath is AWS's failure for a rule whose Variable selects nothing.
func (env *Env) invalidPath(p *jsonpath.Path) error {
	d, _ := env.doc(p)
	_, err := p.Get(d)
	msg := "Invalid path '" + p.String() + "'"
	if err != nil {
		msg += " : " + err.Error()
	}
	return env.fail(fault.Runtime, msg)
}

func (d *dataTest) match(env *Env) (bool, error) {
	v, ok, err := env.lookup(d.variable)
	if err != nil {
		return false, err
	}
	if d.kind == kIs {
		if !ok {
			// A missing value is never present, never of any type.
			return !d.b, nil
		}
		var r bool
		switch d.cmp {
		case isPresent:
			r = true
		case isNull:
			r = v == nil
		case isNumeric:
			r = value.IsNumber(v)
		case isString:
			_, r = v.(string)
		case isBoolean:
			_, r = v.(bool)
		case isTimestamp:
			s, isStr := v.(string)
			if isStr {
				_, r = parseTimestamp(s)
			}
		}
		return r == d.b, nil
	}
	if !ok {
		return false, env.invalidPath(d.variable)
	}
	if d.path != nil {
		other, ok, err := env.lookup(d.path)
		if err != nil {
			return false, err
		}
		if !ok {
			return false, env.invalidPath(d.path)
		}
		return d.compareDynamic(v, other), nil
	}
	switch d.kind {
	case kString:
		s, isStr := v.(string)
		if !isStr {
			return false, nil
		}
		if d.cmp == cmpMatches {
			return d.pattern.match(s), nil
		}
		return cmpResult(d.cmp, compareUTF16(s, d.str)), nil
	case kNumeric:
		f, isNum := value.ToFloat(v)
		if !isNum {
			return false, nil
		}
		return cmpResult(d.cmp, compareFloat(f, d.num)), nil
	case kBoolean:
		b, isBool := v.(bool)
		return isBool && b == d.b, nil
	case kTimestamp:
		s, isStr := v.(string)
		if !isStr {
			return false, nil
		}
		t, ok := parseTimestamp(s)
		if !ok {
			return false, nil
		}
		return cmpResult(d.cmp, t.Compare(d.ts)), nil
	}
	return false, nil
}

// compareDynamic compares the Variable's value with a *Path operand.
func (d *dataTest) compareDynamic(v, other any) bool {
	switch d.kind {
	case kString:
		a, ok1 := v.(string)
		b, ok2 := other.(string)
		return ok1 && ok2 && cmpResult(d.cmp, compareUTF16(a, b))
	case kNumeric:
		a, ok1 := value.ToFloat(v)
		b, ok2 := value.ToFloat(other)
		if !value.IsNumber(v) || !value.IsNumber(other) {
			return false
		}
		return ok1 && ok2 && cmpResult(d.cmp, compareFloat(a, b))
	case kBoolean:
		a, ok1 := v.(bool)
		b, ok2 := other.(bool)
		return ok1 && ok2 && a == b
	case kTimestamp:
		a, ok1 := v.(string)
		b, ok2 := other.(string)
		if !ok1 || !ok2 {
			return false
		}
		ta, ok1 := parseTimestamp(a)
		tb, ok2 := parseTimestamp(b)
		return ok1 && ok2 && cmpResult(d.cmp, ta.Compare(tb))
	}
	return false
}

func cmpResult(cmp uint8, c int) bool {
	switch cmp {
	case cmpEq:
		return c == 0
	case cmpLt:
		return c < 0
	case cmpGt:
		return c > 0
	case cmpLe:
		return c <= 0
	case cmpGe:
		return c >= 0
	}
	return false
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareUTF16 orders strings as Java's String.compareTo does (by UTF-16
// code units).
func compareUTF16(a, b string) int {
	for a != "" && b != "" {
		if a[0] < utf8.RuneSelf && b[0] < utf8.RuneSelf {
			if a[0] != b[0] {
				return int(a[0]) - int(b[0])
			}
			a, b = a[1:], b[1:]
			continue
		}
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			return int(utf16First(ra)) - int(utf16First(rb))
		}
		a, b = a[na:], b[nb:]
	}
	return len(a) - len(b)
}

// utf16First returns the first UTF-16 code unit of r.
func utf16First(r rune) rune {
	if r >= 0x10000 {
		return 0xD800 + ((r - 0x10000) >> 10)
	}
	return r
}
