// Package jsonpath implements JSONPath as AWS Step Functions evaluates it in
// JSONPath mode. AWS uses the Java Jayway JsonPath library, so this package
// follows Jayway's syntax and its quirks: which paths are definite, what a
// definite path returns when nothing matches, the order of deep-scan results,
// filter semantics and the text of its error messages.
//
// Paths are compiled once with Compile (or CompileReference for Reference
// Paths such as ResultPath) and evaluated many times with Get; Set applies a
// ResultPath to a document without modifying it. A compiled *Path is
// immutable and safe for concurrent use.
package jsonpath

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// RootKind says what document a path is applied to.
type RootKind int

const (
	// RootInput is "$…": the state's input (or effective input).
	RootInput RootKind = iota
	// RootContext is "$$…": the Context object.
	RootContext
	// RootVariable is "$name…": a workflow variable.
	RootVariable
)

// String returns "input", "context" or "variable".
func (k RootKind) String() string {
	switch k {
	case RootInput:
		return "input"
	case RootContext:
		return "context"
	case RootVariable:
		return "variable"
	}
	return "RootKind(" + strconv.Itoa(int(k)) + ")"
}

type segKind uint8

const (
	segName    segKind = iota // .name or ['name']
	segNames                  // ['a','b']
	segIndex                  // [n]
	segIndexes                // [a,b]
	segSlice                  // [from:to]
	segWild                   // * or [*]
	segScan                   // .. (applies to the segment after it)
	segFilter                 // [?(…)]
	segFunc                   // .length() and friends (always last)
)

// segment is one Jayway path token.
type segment struct {
	kind     segKind
	name     string   // segName; function name for segFunc
	names    []string // segNames
	index    int      // segIndex
	indexes  []int    // segIndexes
	from, to int      // segSlice
	hasFrom  bool
	hasTo    bool
	filter   *filterExpr

	quote      byte // delimiter used for names in Jayway's path text
	leaf       bool // last segment
	upDefinite bool // every segment before this one is definite
}

// definite reports whether the token selects at most one node (Jayway's
// isTokenDefinite).
func (s *segment) definite() bool {
	switch s.kind {
	case segName, segIndex, segFunc:
		return true
	case segNames:
		return s.leaf // merged into one object at the leaf
	}
	return false
}

// Path is a compiled JSONPath. It is immutable and safe for concurrent use.
type Path struct {
	text     string
	root     RootKind
	varName  string
	segs     []segment
	definite bool
	simple   bool // only segName and segIndex segments
	current  bool // "@" root (inside filters)
}

// String returns the text the path was compiled from.
func (p *Path) String() string { return p.text }

// Root returns what the path is applied to.
func (p *Path) Root() RootKind { return p.root }

// VarName returns the variable name of a RootVariable path, else "".
func (p *Path) VarName() string { return p.varName }

// IsDefinite reports whether the path selects at most one node: it has no
// wildcard, filter, slice, index or property union, or deep scan. Get on a
// definite path returns the node itself; on other paths it returns a list.
func (p *Path) IsDefinite() bool { return p.definite }

// Member returns the name of a path that names one member of the input,
// "$.name" or "$['name']": Set on it sets that member of the object it is
// given (a copy); ok is false for any other path.
func (p *Path) Member() (name string, ok bool) {
	if p.root != RootInput || len(p.segs) != 1 || p.segs[0].kind != segName {
		return "", false
	}
	return p.segs[0].name, true
}

// IsPath reports whether s is a candidate path string: it starts with "$".
func IsPath(s string) bool { return len(s) > 0 && s[0] == '$' }

// SyntaxError reports a path that cannot be compiled.
type SyntaxError struct {
	Path string // the text given to Compile
	Msg  string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSONPath %q: %s", e.Path, e.Msg)
}

// Compile compiles any JSONPath that Jayway accepts, with a "$" (input),
// "$$" (Context object) or "$name" (variable) root.
func Compile(s string) (*Path, error) {
	p, err := compile(s, false)
	if err != nil {
		return nil, &SyntaxError{Path: s, Msg: err.Error()}
	}
	return p, nil
}

// CompileReference compiles a Reference Path (ResultPath, ItemsPath, a Choice
// rule's Variable, …): only names and single indexes are allowed, so the path
// identifies at most one node.
func CompileReference(s string) (*Path, error) {
	p, err := Compile(s)
	if err != nil {
		return nil, err
	}
	for i := range p.segs {
		switch p.segs[i].kind {
		case segName, segIndex:
		default:
			return nil, &SyntaxError{Path: s, Msg: "a reference path may only use names and single array indexes"}
		}
	}
	return p, nil
}

// MustCompile is Compile for paths known to be valid; it panics on error.
func MustCompile(s string) *Path {
	p, err := Compile(s)
	if err != nil {
		panic(err)
	}
	return p
}

// maxNesting bounds filter nesting so hostile paths cannot exhaust the stack.
const maxNesting = 64

// compile parses s. In filter mode the root is "$" (the root document) or
// "@" (the current item); otherwise "$", "$$" or "$name".
func compile(s string, inFilter bool) (*Path, error) {
	return compileDepth(s, inFilter, 0)
}

func compileDepth(s string, inFilter bool, depth int) (*Path, error) {
	if depth > maxNesting {
		return nil, errors.New("filters nested too deeply")
	}
	t := strings.TrimRight(s, " \t\r\n")
	if inFilter {
		t = strings.TrimLeft(t, " \t\r\n")
	}
	p := &Path{text: s}
	if t == "" {
		return nil, errors.New("path is empty")
	}
	var rest string
	switch {
	case inFilter && (t[0] == '$' || t[0] == '@'):
		p.current = t[0] == '@'
		rest = t[1:]
	case inFilter:
		return nil, errors.New("path must start with '$' or '@'")
	case t[0] != '$':
		return nil, errors.New("path must start with '$'")
	case len(t) > 1 && t[1] == '$':
		p.root = RootContext
		rest = t[2:]
	case len(t) == 1 || t[1] == '.' || t[1] == '[':
		rest = t[1:]
	default:
		p.root = RootVariable
		end := strings.IndexAny(t, ".[")
		if end < 0 {
			end = len(t)
		}
		name := t[1:end]
		if !validVarName(name) {
			return nil, fmt.Errorf("invalid variable name %q", name)
		}
		p.varName = name
		rest = t[end:]
	}
	if rest != "" && rest[0] != '.' && rest[0] != '[' {
		return nil, fmt.Errorf("illegal character at position %d, expected '.' or '['", len(t)-len(rest))
	}
	if strings.HasSuffix(rest, ".") {
		return nil, errors.New("path must not end with a '.' or '..'")
	}
	ps := pathParser{s: rest, depth: depth}
	for ps.pos < len(ps.s) {
		if err := ps.next(); err != nil {
			return nil, err
		}
	}
	p.segs = ps.segs
	p.definite = true
	p.simple = true
	for i := range p.segs {
		sg := &p.segs[i]
		sg.leaf = i == len(p.segs)-1
		sg.upDefinite = p.definite
		if sg.kind == segFunc && !sg.leaf {
			return nil, fmt.Errorf("function %s() must be the last token of the path", sg.name)
		}
		if sg.kind == segScan && sg.leaf {
			return nil, errors.New("path must not end with '..'")
		}
		if !sg.definite() {
			p.definite = false
		}
		if sg.kind != segName && sg.kind != segIndex {
			p.simple = false
		}
	}
	return p, nil
}

// validVarName reports whether s is a Unicode identifier of at most 80
// characters.
func validVarName(s string) bool {
	if s == "" || utf8.RuneCountInString(s) > 80 {
		return false
	}
	for i, r := range s {
		if r == utf8.RuneError {
			return false
		}
		if r == '_' || unicode.IsLetter(r) || unicode.Is(unicode.Nl, r) {
			continue
		}
		if i > 0 && (unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r) || unicode.Is(unicode.Pc, r)) {
			continue
		}
		return false
	}
	return true
}

// pathParser reads Jayway path tokens from the text after the root.
type pathParser struct {
	s     string
	pos   int
	segs  []segment
	depth int
}

func (ps *pathParser) add(s segment) { ps.segs = append(ps.segs, s) }

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// nextSignificant returns the index of the first non-blank byte at or after
// i, or -1.
func (ps *pathParser) nextSignificant(i int) int {
	for ; i < len(ps.s); i++ {
		if !isBlank(ps.s[i]) {
			return i
		}
	}
	return -1
}

// next reads one token at ps.pos.
func (ps *pathParser) next() error {
	switch ps.s[ps.pos] {
	case '[':
		return ps.bracket()
	case '.':
		if ps.pos+1 < len(ps.s) && ps.s[ps.pos+1] == '.' {
			ps.add(segment{kind: segScan})
			ps.pos += 2
		} else {
			ps.pos++
		}
		if ps.pos >= len(ps.s) {
			return errors.New("path must not end with a '.' or '..'")
		}
		if ps.s[ps.pos] == '.' {
			return fmt.Errorf("character '.' at position %d is not valid", ps.pos)
		}
		switch ps.s[ps.pos] {
		case '[':
			return ps.bracket()
		case '*':
			ps.add(segment{kind: segWild})
			ps.pos++
			return nil
		}
		return ps.property()
	case '*':
		ps.add(segment{kind: segWild})
		ps.pos++
		return nil
	}
	return ps.property()
}

// property reads a dot-notation name or a function call: everything up to
// the next '.', '[' or '('. Blanks are not allowed.
func (ps *pathParser) property() error {
	start := ps.pos
	if c := ps.s[start]; c == ' ' {
		return fmt.Errorf("could not parse token starting at position %d", start)
	}
	end := start
	for end < len(ps.s) {
		c := ps.s[end]
		if c == ' ' {
			return fmt.Errorf("use bracket notation ['my prop'] if a property contains blanks, position %d", end)
		}
		if c == '.' || c == '[' || c == '(' {
			break
		}
		end++
	}
	name := ps.s[start:end]
	if end < len(ps.s) && ps.s[end] == '(' {
		// Function call: only argument-less functions are supported.
		i := ps.nextSignificant(end + 1)
		if i < 0 || ps.s[i] != ')' {
			return fmt.Errorf("function %s: arguments are not supported", name)
		}
		if !knownFunction(name) {
			return fmt.Errorf("function with name %s does not exist", name)
		}
		ps.add(segment{kind: segFunc, name: name})
		ps.pos = i + 1
		return nil
	}
	ps.add(segment{kind: segName, name: name, quote: '\''})
	ps.pos = end
	return nil
}

// bracket reads a token that starts with '['.
func (ps *pathParser) bracket() error {
	i := ps.nextSignificant(ps.pos + 1)
	if i < 0 {
		return fmt.Errorf("could not parse token starting at position %d", ps.pos)
	}
	switch c := ps.s[i]; {
	case c == '\'' || c == '"':
		return ps.bracketNames(i, c)
	case c == '-' || c == ':' || (c >= '0' && c <= '9'):
		return ps.arrayToken()
	case c == '*':
		j := ps.nextSignificant(i + 1)
		if j < 0 || ps.s[j] != ']' {
			return fmt.Errorf("expected wildcard token to end with ']' at position %d", i+1)
		}
		ps.add(segment{kind: segWild})
		ps.pos = j + 1
		return nil
	case c == '?':
		return ps.filterToken(i)
	}
	return fmt.Errorf("could not parse token starting at position %d, expected ?, ', 0-9, *", ps.pos)
}

// bracketNames reads ['a'] or ['a', 'b'] whose first quote is at q.
func (ps *pathParser) bracketNames(q int, delim byte) error {
	var names []string
	inProp, inEscape, lastComma := false, false, false
	start, endProp := 0, -1
	i := q
	closed := false
	for ; i < len(ps.s); i++ {
		c := ps.s[i]
		switch {
		case inEscape:
			inEscape = false
		case c == '\\':
			inEscape = true
		case c == ']' && !inProp:
			if lastComma {
				return fmt.Errorf("found empty property at index %d", i)
			}
			closed = true
		case c == delim:
			if inProp {
				j := ps.nextSignificant(i + 1)
				if j < 0 || (ps.s[j] != ']' && ps.s[j] != ',') {
					return fmt.Errorf("property must be separated by comma or terminated by ']' at index %d", i)
				}
				names = append(names, ps.s[start:i])
				endProp = i
				inProp = false
			} else {
				start = i + 1
				inProp = true
				lastComma = false
			}
		case c == ',' && !inProp:
			if lastComma {
				return fmt.Errorf("found empty property at index %d", i)
			}
			lastComma = true
		case !inProp && !isBlank(c):
			return fmt.Errorf("unexpected character %q in bracket notation at index %d", c, i)
		}
		if closed {
			break
		}
	}
	if inProp {
		return fmt.Errorf("property has not been closed, missing closing %c", delim)
	}
	if !closed || endProp < 0 {
		return errors.New("property has not been closed, missing closing ]")
	}
	ps.pos = i + 1
	if len(names) == 1 {
		ps.add(segment{kind: segName, name: names[0], quote: delim})
	} else {
		ps.add(segment{kind: segNames, names: names, quote: delim})
	}
	return nil
}

// arrayToken reads [1], [-1], [1,2], [1:], [:2], [1:2].
func (ps *pathParser) arrayToken() error {
	end := strings.IndexByte(ps.s[ps.pos+1:], ']')
	if end < 0 {
		return fmt.Errorf("could not parse token starting at position %d: missing ']'", ps.pos)
	}
	end += ps.pos + 1
	expr := strings.Trim(ps.s[ps.pos+1:end], " \t\r\n")
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		if !(c >= '0' && c <= '9') && c != ',' && c != '-' && c != ':' && c != ' ' {
			return fmt.Errorf("could not parse token starting at position %d", ps.pos)
		}
	}
	if strings.IndexByte(expr, ':') >= 0 {
		if strings.IndexByte(expr, ' ') >= 0 || strings.IndexByte(expr, ',') >= 0 {
			return fmt.Errorf("failed to parse slice operation: %s", expr)
		}
		// Java's String.split(":") drops trailing empty strings; a step
		// (third part) is ignored, as Jayway does.
		parts := strings.Split(expr, ":")
		for len(parts) > 0 && parts[len(parts)-1] == "" {
			parts = parts[:len(parts)-1]
		}
		sg := segment{kind: segSlice}
		var err error
		if len(parts) > 0 && parts[0] != "" {
			sg.hasFrom = true
			if sg.from, err = parseInt32(parts[0]); err != nil {
				return err
			}
		}
		if len(parts) > 1 && parts[1] != "" {
			sg.hasTo = true
			if sg.to, err = parseInt32(parts[1]); err != nil {
				return err
			}
		}
		if !sg.hasFrom && !sg.hasTo {
			return fmt.Errorf("failed to parse slice operation: %s", expr)
		}
		ps.add(sg)
		ps.pos = end + 1
		return nil
	}
	var idx []int
	for _, tok := range strings.Split(expr, ",") {
		n, err := parseInt32(strings.Trim(tok, " "))
		if err != nil {
			return err
		}
		idx = append(idx, n)
	}
	if len(idx) == 1 {
		ps.add(segment{kind: segIndex, index: idx[0]})
	} else {
		ps.add(segment{kind: segIndexes, indexes: idx})
	}
	ps.pos = end + 1
	return nil
}

// parseInt32 parses an index the way Java's Integer.parseInt does.
func parseInt32(s string) (int, error) {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("failed to parse array index %q", s)
	}
	return int(n), nil
}

// filterToken reads [?(…)] whose '?' is at q.
func (ps *pathParser) filterToken(q int) error {
	open := ps.nextSignificant(q + 1)
	if open < 0 || ps.s[open] != '(' {
		return fmt.Errorf("could not parse token starting at position %d: filter placeholders [?] are not supported", ps.pos)
	}
	closeParen := closingParen(ps.s, open)
	if closeParen < 0 {
		return fmt.Errorf("could not parse filter starting at position %d: unbalanced parentheses", ps.pos)
	}
	end := ps.nextSignificant(closeParen + 1)
	if end < 0 || ps.s[end] != ']' {
		return fmt.Errorf("could not parse filter starting at position %d: expected ']'", ps.pos)
	}
	f, err := parseFilter(ps.s[open:closeParen+1], ps.depth+1)
	if err != nil {
		return fmt.Errorf("could not compile inline filter %s: %w", ps.s[ps.pos:end+1], err)
	}
	ps.add(segment{kind: segFilter, filter: f})
	ps.pos = end + 1
	return nil
}

// closingParen returns the index of the ')' matching the '(' at open,
// skipping quoted strings and /regex/ literals, or -1.
func closingParen(s string, open int) int {
	depth := 0
	for i := open; i < len(s); i++ {
		switch c := s[i]; c {
		case '(':
			depth++
		case ')':
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
		case '/':
			if prevSignificant(s, i) == '~' {
				j := skipQuoted(s, i, '/')
				if j < 0 {
					return -1
				}
				i = j
			}
		}
	}
	return -1
}

// skipQuoted returns the index of the unescaped delim closing the literal
// that opens at i, or -1.
func skipQuoted(s string, i int, delim byte) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case delim:
			return j
		}
	}
	return -1
}

// prevSignificant returns the last non-blank byte before i, or 0.
func prevSignificant(s string, i int) byte {
	for j := i - 1; j >= 0; j-- {
		if !isBlank(s[j]) {
			return s[j]
		}
	}
	return 0
}

// unescape resolves Java-style escapes in a quoted name or string literal.
func unescape(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch e := s[i]; e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+4 < len(s) {
				if n, err := strconv.ParseUint(s[i+1:i+5], 16, 32); err == nil {
					r := rune(n)
					i += 4
					if r >= 0xD800 && r < 0xDC00 && i+6 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
						if n2, err := strconv.ParseUint(s[i+3:i+7], 16, 32); err == nil && n2 >= 0xDC00 && n2 < 0xE000 {
							r = (r-0xD800)<<10 + (rune(n2) - 0xDC00) + 0x10000
							i += 6
						}
					}
					b.WriteRune(r)
					continue
				}
			}
			b.WriteByte(e)
		default:
			b.WriteByte(e)
		}
	}
	return b.String()
}

// fragment returns Jayway's text for segment s, as used in its messages.
func (s *segment) fragment() string {
	switch s.kind {
	case segName:
		return "['" + escapeName(s.name) + "']"
	case segNames:
		var b strings.Builder
		b.WriteByte('[')
		for i, n := range s.names {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte(s.quote)
			b.WriteString(escapeName(n))
			b.WriteByte(s.quote)
		}
		b.WriteByte(']')
		return b.String()
	case segIndex:
		return "[" + strconv.Itoa(s.index) + "]"
	case segIndexes:
		var b strings.Builder
		b.WriteByte('[')
		for i, n := range s.indexes {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(n))
		}
		b.WriteByte(']')
		return b.String()
	case segSlice:
		var b strings.Builder
		b.WriteByte('[')
		if s.hasFrom {
			b.WriteString(strconv.Itoa(s.from))
		}
		b.WriteByte(':')
		if s.hasTo {
			b.WriteString(strconv.Itoa(s.to))
		}
		b.WriteByte(']')
		return b.String()
	case segWild:
		return "[*]"
	case segScan:
		return ".."
	case segFilter:
		return "[?]"
	case segFunc:
		return "." + s.name + "()"
	}
	return ""
}

func escapeName(n string) string {
	if strings.IndexByte(n, '\\') < 0 && strings.IndexByte(n, '\'') < 0 {
		return n
	}
	n = strings.ReplaceAll(n, `\`, `\\`)
	return strings.ReplaceAll(n, `'`, `\'`)
}

// jaywayPath returns "$" followed by the fragments of segs[:n].
func (p *Path) jaywayPath(n int) string {
	var b strings.Builder
	b.WriteByte('$')
	for i := 0; i < n && i < len(p.segs); i++ {
		b.WriteString(p.segs[i].fragment())
	}
	return b.String()
}

// tokenString is Jayway's PathToken.toString: the fragments of segs[i:].
func (p *Path) tokenString(i int) string {
	var b strings.Builder
	for ; i < len(p.segs); i++ {
		b.WriteString(p.segs[i].fragment())
	}
	return b.String()
}
