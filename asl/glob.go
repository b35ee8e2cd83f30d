package asl

import "strings"

// pattern is a compiled StringMatches pattern. Matching takes time linear in
// the pattern and the string: the first literal is anchored at the start,
// the last at the end, and each literal between stars is found at its first
// occurrence after the previous one (the leftmost match leaves the most room
// for what follows, so no backtracking is needed). Each search resumes where
// the previous one ended, so the string is scanned once.
type pattern struct {
	parts []patPart
}

// patPart is one piece of a StringMatches pattern: literal text, or a star.
type patPart struct {
	star bool
	lit  string
	// next is the Knuth–Morris–Pratt failure table of a literal longer than
	// shortLiteral (nil otherwise): next[i] is the length of the longest
	// proper prefix of lit[:i+1] that is also its suffix.
	next []int32
}

// shortLiteral is the longest literal searched with strings.Index. Whatever
// algorithm strings.Index picks (SIMD brute force, Rabin–Karp), its worst
// case on a literal this short is a constant times the text's length; longer
// literals are searched with a precomputed KMP table, linear in the text.
const shortLiteral = 64

// compilePattern splits a StringMatches pattern: "*" matches any run of
// characters, "\*" is a literal star and "\\" a literal backslash; any other
// backslash is literal.
func compilePattern(s string) (pattern, bool) {
	var parts []patPart
	var lit []byte
	flush := func() {
		if len(lit) > 0 {
			parts = append(parts, newLiteral(string(lit)))
			lit = lit[:0]
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '\\') {
				lit = append(lit, s[i+1])
				i++
				continue
			}
			lit = append(lit, c)
		case '*':
			flush()
			if len(parts) == 0 || !parts[len(parts)-1].star {
				parts = append(parts, patPart{star: true})
			}
		default:
			lit = append(lit, c)
		}
	}
	flush()
	return pattern{parts: parts}, true
}

// newLiteral returns the part for the literal lit, with its KMP table when
// lit is long.
func newLiteral(lit string) patPart {
	p := patPart{lit: lit}
	if len(lit) > shortLiteral {
		p.next = kmpTable(lit)
	}
	return p
}

// kmpTable returns the Knuth–Morris–Pratt failure table of lit.
func kmpTable(lit string) []int32 {
	next := make([]int32, len(lit))
	k := int32(0)
	for i := 1; i < len(lit); i++ {
		for k > 0 && lit[i] != lit[k] {
			k = next[k-1]
		}
		if lit[i] == lit[k] {
			k++
		}
		next[i] = k
	}
	return next
}

// match reports whether s matches the pattern.
func (p pattern) match(s string) bool {
	ok, _ := p.matchSteps(s)
	return ok
}

// matchSteps reports whether s matches the pattern, and the work it took:
// the number of bytes compared or scanned, up to a constant factor (at most
// shortLiteral for a short literal's search, 2 for a long one's).
func (p pattern) matchSteps(s string) (bool, int) {
	parts := p.parts
	steps := 0
	// Anchor the first literal.
	i := 0
	if len(parts) > 0 && !parts[0].star {
		lit := parts[0].lit
		steps += len(lit)
		if !strings.HasPrefix(s, lit) {
			return false, steps
		}
		s = s[len(lit):]
		i++
	}
	if i == len(parts) {
		return s == "", steps
	}
	// parts[i] is a star. Each literal after a star matches at its first
	// occurrence, except the last literal, which must end the string.
	for ; i < len(parts); i++ {
		part := &parts[i]
		if part.star {
			continue
		}
		if i == len(parts)-1 {
			steps += len(part.lit)
			return strings.HasSuffix(s, part.lit), steps
		}
		j, n := part.index(s)
		steps += n
		if j < 0 {
			return false, steps
		}
		s = s[j+len(part.lit):]
	}
	return true, steps // the pattern ends with a star
}

// index returns the first index of the literal in s (or -1), and the work
// the search took.
func (p *patPart) index(s string) (int, int) {
	lit := p.lit
	if p.next == nil {
		j := strings.Index(s, lit)
		if j < 0 {
			return -1, len(s)
		}
		return j, j + len(lit)
	}
	steps := 0
	k := int32(0)
	for i := 0; i < len(s); i++ {
		for k > 0 && s[i] != lit[k] {
			k = p.next[k-1]
			steps++
		}
		steps++
		if s[i] == lit[k] {
			k++
			if int(k) == len(lit) {
				return i + 1 - len(lit), steps
			}
		}
	}
	return -1, steps
}
