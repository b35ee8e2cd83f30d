package evaluator

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// Regex wraps Go's standard regexp (RE2) with the interface needed by gnata's
// JSONata functions ($match, $replace, $contains, $split, ~> chain operator).
// RE2 guarantees linear-time matching — no backtracking, no timeouts.
type Regex struct {
	re *regexp.Regexp
}

// Match represents a single regex match.
type Match struct {
	Index  int
	Length int

	input    string
	re       *regexp.Regexp
	loc      []int   // submatch index pairs for this match
	allLocs  [][]int // all matches from FindAllStringSubmatchIndex
	matchIdx int     // index into allLocs for this match
}

// Group represents a capture group within a match.
type Group struct {
	Index    int
	Length   int
	Captured bool
	value    string
}

// ── Regex methods ─────────────────────────────────────────────────────────────

func (r *Regex) FindStringMatch(s string) (*Match, error) {
	allLocs := r.re.FindAllStringSubmatchIndex(s, -1)
	if len(allLocs) == 0 {
		return nil, nil
	}
	loc := allLocs[0]
	return &Match{
		Index:    loc[0],
		Length:   loc[1] - loc[0],
		input:    s,
		re:       r.re,
		loc:      loc,
		allLocs:  allLocs,
		matchIdx: 0,
	}, nil
}

func (r *Regex) MatchString(s string) (bool, error) {
	return r.re.MatchString(s), nil
}

// ── Match methods ─────────────────────────────────────────────────────────────

func (m *Match) String() string {
	return m.input[m.Index : m.Index+m.Length]
}

func (m *Match) GroupCount() int {
	return len(m.loc) / 2
}

func (m *Match) GroupByNumber(i int) *Group {
	idx := i * 2
	if idx+1 >= len(m.loc) || m.loc[idx] < 0 {
		return &Group{Captured: false}
	}
	start := m.loc[idx]
	end := m.loc[idx+1]
	return &Group{
		Index:    start,
		Length:   end - start,
		Captured: true,
		value:    m.input[start:end],
	}
}

// FindNextMatch returns the next match from the pre-computed results.
// Matches are computed on the full original string (via FindAllStringSubmatchIndex)
// to preserve anchor semantics (^, $, \b).
func (m *Match) FindNextMatch() (*Match, error) {
	nextIdx := m.matchIdx + 1
	if nextIdx >= len(m.allLocs) {
		return nil, nil
	}
	loc := m.allLocs[nextIdx]
	return &Match{
		Index:    loc[0],
		Length:   loc[1] - loc[0],
		input:    m.input,
		re:       m.re,
		loc:      loc,
		allLocs:  m.allLocs,
		matchIdx: nextIdx,
	}, nil
}

// ── Group methods ─────────────────────────────────────────────────────────────

func (g *Group) String() string {
	return g.value
}

// ── Compilation ───────────────────────────────────────────────────────────────

var evalRegexCache sync.Map

func re2InlineFlags(flags string) string {
	var buf strings.Builder
	if strings.ContainsRune(flags, 'i') {
		buf.WriteByte('i')
	}
	if strings.ContainsRune(flags, 'm') {
		buf.WriteByte('m')
	}
	if strings.ContainsRune(flags, 's') {
		buf.WriteByte('s')
	}
	if buf.Len() == 0 {
		return ""
	}
	return "(?" + buf.String() + ")"
}

// CachedCompileRegex compiles a regex pattern with caching using Go's standard
// regexp package (RE2 engine, guaranteed linear-time matching).
func CachedCompileRegex(pattern, flags string) (*Regex, error) {
	inlineFlags := re2InlineFlags(flags)
	key := inlineFlags + ":" + pattern
	if cached, ok := evalRegexCache.Load(key); ok {
		return cached.(*Regex), nil
	}

	fullPattern := inlineFlags + translateJSRegex(pattern)
	re, err := regexp.Compile(fullPattern)
	if err != nil {
		return nil, regexError(pattern, err)
	}
	r := &Regex{re: re}
	if evalRegexCacheSize.Add(1) <= maxRegexCache { // Stepwell: patterns can come from input strings
		evalRegexCache.Store(key, r)
	}
	return r, nil
}

// Stepwell: the regex cache holds at most maxRegexCache patterns.
const maxRegexCache = 4096

var evalRegexCacheSize atomic.Int64

// RegexCode is the error code of a regular expression the engine (Go's
// RE2) cannot compile.
const RegexCode = "SW005"

// translateJSRegex rewrites the JavaScript escapes RE2 spells differently:
// \uXXXX becomes \x{XXXX} and \/ becomes /.
func translateJSRegex(p string) string {
	if !strings.Contains(p, `\`) {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '\\' && i+1 < len(p) {
			switch {
			case p[i+1] == 'u' && i+6 <= len(p) && isHex4(p[i+2:i+6]):
				b.WriteString(`\x{` + p[i+2:i+6] + `}`)
				i += 5
				continue
			case p[i+1] == '/':
				b.WriteByte('/')
				i++
				continue
			}
			b.WriteString(p[i : i+2])
			i++
			continue
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

func isHex4(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// jsOnlyRegex finds the JavaScript regular expression features RE2 lacks.
var jsOnlyRegex = regexp.MustCompile(`\(\?<?[=!]|\\[1-9]|\\k<`)

// regexError explains why pattern does not compile: a JavaScript feature
// RE2 does not have (look-around, back-references), or a syntax error.
func regexError(pattern string, err error) *JSONataError {
	if m := jsOnlyRegex.FindString(pattern); m != "" {
		what := "back-references"
		if strings.HasPrefix(m, "(") {
			what = "look-ahead and look-behind assertions"
		}
		return &JSONataError{Code: RegexCode, Token: pattern, Message: fmt.Sprintf(
			"The regular expression /%s/ uses %s (%s), which Stepwell's regular expression engine (RE2) does not support", pattern, what, m)}
	}
	return &JSONataError{Code: RegexCode, Token: pattern, Message: fmt.Sprintf("Invalid regular expression /%s/: %v", pattern, err)}
}

// CheckRegexLiteral reports whether a regex literal of the source (its
// node value, "pattern/flags" or "pattern") compiles.
func CheckRegexLiteral(raw string) error {
	m := evalRegex(raw)
	pattern, _ := m["pattern"].(string)
	flags, _ := m["flags"].(string)
	_, err := CachedCompileRegex(pattern, flags)
	return err
}

// CompileLiteralRegex compiles an escaped literal string as an RE2 pattern.
func CompileLiteralRegex(literal string) (*Regex, error) {
	return CachedCompileRegex(regexp.QuoteMeta(literal), "")
}

// ── Chain operator (~>) with regex ────────────────────────────────────────────

// applyRegexTest implements the JSONata chain operator (~>) with a regex on the
// right-hand side. It returns the first match object (like $match with limit 1)
// when the regex matches, or nil (undefined) when it does not.
func applyRegexTest(input any, regexMap map[string]any) (any, error) {
	s, ok := input.(string)
	if !ok {
		return nil, nil
	}
	pattern, _ := regexMap["pattern"].(string)
	flags, _ := regexMap["flags"].(string)
	re, err := CachedCompileRegex(pattern, flags)
	if err != nil {
		return nil, err
	}
	m, err := re.FindStringMatch(s)
	if err != nil {
		return nil, &JSONataError{Code: "D1002", Message: fmt.Sprintf("regex error: %v", err)}
	}
	if m == nil {
		return nil, nil
	}
	groups := make([]any, 0, m.GroupCount()-1)
	for g := 1; g < m.GroupCount(); g++ {
		grp := m.GroupByNumber(g)
		if !grp.Captured {
			groups = append(groups, "")
			continue
		}
		groups = append(groups, grp.String())
	}
	r := NewOrderedMapWithCapacity(4) // Stepwell: in jsonata-js's order
	r.Set("match", m.String())
	r.Set("start", float64(utf8.RuneCountInString(s[:m.Index])))
	r.Set("end", float64(utf8.RuneCountInString(s[:m.Index+m.Length])))
	r.Set("groups", groups)
	return r, nil
}

// ── Regex parsing ─────────────────────────────────────────────────────────────

func evalRegex(raw string) map[string]any {
	if idx := strings.LastIndex(raw, "/"); idx >= 0 {
		suffix := raw[idx+1:]
		if isRegexFlags(suffix) {
			return map[string]any{"pattern": raw[:idx], "flags": suffix}
		}
	}
	return map[string]any{"pattern": raw, "flags": ""}
}

func isRegexFlags(s string) bool {
	for _, c := range s {
		switch c {
		case 'g', 'i', 'm', 'x', 's', 'u':
		default:
			return false
		}
	}
	return true
}
