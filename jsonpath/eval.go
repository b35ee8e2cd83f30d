package jsonpath

import (
	"math"
	"math/big"
	"strings"

	"github.com/stepwell/stepwell/value"
)

// NotFoundError is returned by Get when a definite path selects nothing.
// Msg is Jayway's message (AWS quotes it in States.Runtime causes, for
// example "No results for path: $['a']" or "Missing property in path
// $['a']").
type NotFoundError struct {
	Path string // the path as written
	Msg  string
}

func (e *NotFoundError) Error() string {
	if e.Msg != "" {
		return e.Msg
	}
	return "No results for path: " + e.Path
}

// jaywayProvider is the JsonProvider named in Jayway's type-mismatch message.
const jaywayProvider = "com.jayway.jsonpath.spi.json.JacksonJsonProvider"

// Get evaluates the path on doc, the value at the root (the input, the
// Context object or the variable's value).
//
// A definite path returns the selected node, or a *NotFoundError when there
// is none. Any other path returns a []any of the matches in Jayway's order,
// possibly empty, and never an error.
func (p *Path) Get(doc any) (any, error) {
	if p.simple {
		return p.getSimple(doc)
	}
	if p.definite {
		return p.getDefinite(doc)
	}
	return p.getIndefinite(doc, doc), nil
}

// getIndefinite evaluates an indefinite path on doc; root is the document
// "$" means inside filters.
func (p *Path) getIndefinite(doc, root any) []any {
	ev := evaluator{p: p, root: root}
	out := make([]any, 0, 4)
	if !ev.eval(0, doc, &out) {
		return []any{}
	}
	return out
}

// getSimple walks a path made of names and single indexes only.
func (p *Path) getSimple(doc any) (any, error) {
	cur := doc
	for i := range p.segs {
		s := &p.segs[i]
		if s.kind == segName {
			o, ok := cur.(*value.Object)
			if !ok {
				return nil, p.notObject(i, cur)
			}
			v, ok := o.Get(s.name)
			if !ok {
				return nil, p.missing(i)
			}
			cur = v
			continue
		}
		a, ok := cur.([]any)
		if !ok {
			return nil, p.notArray(i, cur)
		}
		idx := s.index
		if idx < 0 {
			idx += len(a)
		}
		if idx < 0 || idx >= len(a) {
			return nil, p.noResults()
		}
		cur = a[idx]
	}
	return cur, nil
}

// getDefinite evaluates a definite path that also uses a multi-name leaf or
// a function.
func (p *Path) getDefinite(doc any) (any, error) {
	cur := doc
	for i := range p.segs {
		s := &p.segs[i]
		switch s.kind {
		case segName:
			o, ok := cur.(*value.Object)
			if !ok {
				return nil, p.notObject(i, cur)
			}
			v, ok := o.Get(s.name)
			if !ok {
				return nil, p.missing(i)
			}
			cur = v
		case segIndex:
			a, ok := cur.([]any)
			if !ok {
				return nil, p.notArray(i, cur)
			}
			idx := s.index
			if idx < 0 {
				idx += len(a)
			}
			if idx < 0 || idx >= len(a) {
				return nil, p.noResults()
			}
			cur = a[idx]
		case segNames:
			o, ok := cur.(*value.Object)
			if !ok {
				return nil, p.notObject(i, cur)
			}
			cur = mergeNames(o, s.names)
		case segFunc:
			v, ok := applyFunc(s.name, cur)
			if !ok {
				return nil, &NotFoundError{Path: p.text, Msg: "Aggregation function attempted to calculate value using empty array"}
			}
			cur = v
		}
	}
	return cur, nil
}

// mergeNames is Jayway's leaf ['a','b']: an object of the present members.
func mergeNames(o *value.Object, names []string) *value.Object {
	m := value.NewObject(len(names))
	for _, n := range names {
		if v, ok := o.Get(n); ok {
			m.Set(n, v)
		}
	}
	return m
}

func (p *Path) noResults() error {
	return &NotFoundError{Path: p.text, Msg: "No results for path: " + p.jaywayPath(len(p.segs))}
}

// missing reports that the name of segment i is absent.
func (p *Path) missing(i int) error {
	if i == len(p.segs)-1 {
		return p.noResults()
	}
	return &NotFoundError{Path: p.text, Msg: "Missing property in path " + p.jaywayPath(i+1)}
}

// notObject reports that segment i (a name) met something not an object.
func (p *Path) notObject(i int, model any) error {
	return &NotFoundError{Path: p.text, Msg: "Expected to find an object with property " + p.segs[i].fragment() +
		" in path " + p.jaywayPath(i) + " but found '" + javaClass(model) +
		"'. This is not a json object according to the JsonProvider: '" + jaywayProvider + "'."}
}

// notArray reports that segment i (an index) met something not an array.
func (p *Path) notArray(i int, model any) error {
	if model == nil {
		return &NotFoundError{Path: p.text, Msg: "The path " + p.jaywayPath(i) + " is null"}
	}
	return &NotFoundError{Path: p.text, Msg: "Filter: " + p.tokenString(i) +
		" can only be applied to arrays. Current context is: " + javaString(model)}
}

// javaClass is the Java class Jackson maps a value to.
func javaClass(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "java.lang.Boolean"
	case string:
		return "java.lang.String"
	case int64:
		if x >= math.MinInt32 && x <= math.MaxInt32 {
			return "java.lang.Integer"
		}
		return "java.lang.Long"
	case float64:
		return "java.lang.Double"
	case *big.Int:
		return "java.math.BigInteger"
	case []any:
		return "java.util.ArrayList"
	case *value.Object:
		return "java.util.LinkedHashMap"
	}
	return "java.lang.Object"
}

// javaString is Java's toString of the value Jackson maps v to.
func javaString(v any) string {
	var b strings.Builder
	appendJava(&b, v, 0)
	return b.String()
}

func appendJava(b *strings.Builder, v any, depth int) {
	if depth > 100 {
		b.WriteString("...")
		return
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		b.WriteString(x)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			appendJava(b, e, depth+1)
		}
		b.WriteByte(']')
	case *value.Object:
		b.WriteByte('{')
		for i := 0; i < x.Len(); i++ {
			k, e := x.At(i)
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k)
			b.WriteByte('=')
			appendJava(b, e, depth+1)
		}
		b.WriteByte('}')
	default:
		b.WriteString(value.String(v))
	}
}

// evaluator runs an indefinite path the way Jayway's token chain does.
type evaluator struct {
	p    *Path
	root any // the document "$" refers to inside filters
}

// eval applies segments i… to model, appending matches to out. It returns
// false when Jayway would throw: the whole evaluation then yields nothing.
func (ev *evaluator) eval(i int, model any, out *[]any) bool {
	if i >= len(ev.p.segs) {
		*out = append(*out, model)
		return true
	}
	s := &ev.p.segs[i]
	switch s.kind {
	case segName:
		o, ok := model.(*value.Object)
		if !ok {
			return !s.upDefinite
		}
		v, ok := o.Get(s.name)
		if !ok {
			// A missing leaf is skipped; a missing intermediate throws
			// only while the path so far is definite.
			return s.leaf || !s.upDefinite
		}
		return ev.eval(i+1, v, out)
	case segNames:
		o, ok := model.(*value.Object)
		if !ok {
			return !s.upDefinite
		}
		if s.leaf {
			*out = append(*out, mergeNames(o, s.names))
			return true
		}
		for _, n := range s.names {
			if v, ok := o.Get(n); ok {
				if !ev.eval(i+1, v, out) {
					return false
				}
			}
		}
		return true
	case segIndex, segIndexes, segSlice:
		a, ok := model.([]any)
		if !ok {
			return !s.upDefinite
		}
		return ev.evalArray(i, s, a, out)
	case segWild:
		switch x := model.(type) {
		case *value.Object:
			for j := 0; j < x.Len(); j++ {
				_, v := x.At(j)
				if !ev.eval(i+1, v, out) {
					return false
				}
			}
		case []any:
			for _, v := range x {
				if !ev.eval(i+1, v, out) {
					return false
				}
			}
		default:
			return s.leaf
		}
		return true
	case segFilter:
		switch x := model.(type) {
		case *value.Object:
			if s.filter.accept(ev.root, model) {
				return ev.eval(i+1, model, out)
			}
		case []any:
			for _, v := range x {
				if s.filter.accept(ev.root, v) {
					if !ev.eval(i+1, v, out) {
						return false
					}
				}
			}
		default:
			return !s.upDefinite
		}
		return true
	case segFunc:
		v, ok := applyFunc(s.name, model)
		if !ok {
			return false
		}
		*out = append(*out, v)
		return true
	case segScan:
		return ev.walk(i+1, model, out, 0)
	}
	return true
}

// evalArray applies an index, index list or slice segment to a.
func (ev *evaluator) evalArray(i int, s *segment, a []any, out *[]any) bool {
	at := func(idx int) bool {
		if idx < 0 {
			idx += len(a)
		}
		if idx < 0 || idx >= len(a) {
			return true
		}
		return ev.eval(i+1, a[idx], out)
	}
	n := len(a)
	switch s.kind {
	case segIndex:
		return at(s.index)
	case segIndexes:
		for _, idx := range s.indexes {
			if !at(idx) {
				return false
			}
		}
		return true
	}
	// Slices, exactly as Jayway's sliceFrom / sliceTo / sliceBetween.
	switch {
	case s.hasFrom && !s.hasTo:
		from := s.from
		if from < 0 {
			from += n
		}
		from = max(from, 0)
		for j := from; j < n; j++ {
			if !at(j) {
				return false
			}
		}
	case !s.hasFrom && s.hasTo:
		if n == 0 {
			return true
		}
		to := s.to
		if to < 0 {
			to += n
		}
		to = min(to, n)
		for j := 0; j < to; j++ {
			if !at(j) {
				return false
			}
		}
	default:
		to := min(s.to, n)
		if s.from >= to || n == 0 {
			return true
		}
		for j := s.from; j < to; j++ {
			if !at(j) {
				return false
			}
		}
	}
	return true
}

// maxWalkDepth bounds deep scans; value.Parse already limits nesting.
const maxWalkDepth = value.MaxDepth + 10

// walk is Jayway's deep scan for segment i: the node itself first (when the
// scan predicate matches), then each child in order, depth first.
func (ev *evaluator) walk(i int, model any, out *[]any, depth int) bool {
	if depth > maxWalkDepth {
		return true
	}
	s := &ev.p.segs[i]
	switch x := model.(type) {
	case *value.Object:
		if ev.scanMatches(s, model) {
			if !ev.eval(i, model, out) {
				return false
			}
		}
		for j := 0; j < x.Len(); j++ {
			_, v := x.At(j)
			if !ev.walk(i, v, out, depth+1) {
				return false
			}
		}
	case []any:
		if ev.scanMatches(s, model) {
			if s.leaf {
				if !ev.eval(i, model, out) {
					return false
				}
			} else {
				// Jayway applies the token after the scanned one to every
				// element, skipping the scanned token itself.
				for _, v := range x {
					if !ev.eval(i+1, v, out) {
						return false
					}
				}
			}
		}
		for _, v := range x {
			if !ev.walk(i, v, out, depth+1) {
				return false
			}
		}
	}
	return true
}

// scanMatches is Jayway's scan predicate for the token after "..".
func (ev *evaluator) scanMatches(s *segment, model any) bool {
	switch s.kind {
	case segName:
		o, ok := model.(*value.Object)
		return ok && o.Has(s.name)
	case segNames:
		o, ok := model.(*value.Object)
		if !ok {
			return false
		}
		if !s.leaf {
			return true
		}
		for _, n := range s.names {
			if !o.Has(n) {
				return false
			}
		}
		return true
	case segIndex, segIndexes, segSlice:
		_, ok := model.([]any)
		return ok
	case segWild:
		return true
	case segFilter:
		return s.filter.accept(ev.root, model)
	}
	return false
}

// knownFunction reports whether name is a supported argument-less function.
func knownFunction(name string) bool {
	switch name {
	case "length", "size", "min", "max", "avg", "sum", "stddev", "first", "last", "keys":
		return true
	}
	return false
}

// applyFunc applies an argument-less Jayway function to model. ok is false
// when Jayway throws (an aggregation over no numbers).
func applyFunc(name string, model any) (any, bool) {
	switch name {
	case "length", "size":
		switch x := model.(type) {
		case []any:
			return int64(len(x)), true
		case *value.Object:
			return int64(x.Len()), true
		case string:
			return int64(javaLen(x)), true
		}
		return nil, true
	case "first", "last":
		a, ok := model.([]any)
		if !ok || len(a) == 0 {
			return nil, false
		}
		if name == "first" {
			return a[0], true
		}
		return a[len(a)-1], true
	case "keys":
		o, ok := model.(*value.Object)
		if !ok {
			return nil, true
		}
		keys := make([]any, o.Len())
		for i := range keys {
			keys[i], _ = o.At(i)
		}
		return keys, true
	}
	// Aggregations over the numbers of an array, as doubles.
	var nums []float64
	if a, ok := model.([]any); ok {
		for _, e := range a {
			if f, ok := value.ToFloat(e); ok {
				nums = append(nums, f)
			}
		}
	}
	if len(nums) == 0 {
		return nil, false
	}
	switch name {
	case "min":
		m := nums[0]
		for _, f := range nums[1:] {
			m = math.Min(m, f)
		}
		return m, true
	case "max":
		m := nums[0]
		for _, f := range nums[1:] {
			m = math.Max(m, f)
		}
		return m, true
	}
	sum, sumSq := 0.0, 0.0
	for _, f := range nums {
		sum += f
		sumSq += f * f
	}
	n := float64(len(nums))
	switch name {
	case "sum":
		return sum, true
	case "avg":
		return sum / n, true
	}
	// stddev: population standard deviation, as Jayway computes it.
	return math.Sqrt(sumSq/n - sum*sum/n/n), true
}

// javaLen is Java's String.length: the number of UTF-16 code units of s.
func javaLen(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}
