package asl

import (
	"strings"
	"testing"
)

// forceKMP returns p with every literal searched by its KMP table, so that
// short inputs exercise the long-literal search too.
func forceKMP(p pattern) pattern {
	parts := make([]patPart, len(p.parts))
	for i, part := range p.parts {
		if !part.star {
			part.next = kmpTable(part.lit)
		}
		parts[i] = part
	}
	return pattern{parts: parts}
}

// TestStringMatchesLinear matches hostile patterns and strings (100 KB each)
// and checks that the work done is linear in their sizes. The matcher this
// replaced took O(n·m) on the long-literal cases (seconds of CPU per Choice).
func TestStringMatchesLinear(t *testing.T) {
	const n = 100_000
	a := strings.Repeat("a", n)
	tests := []struct {
		name, pattern, s string
		want             bool
	}{
		{"many stars", strings.Repeat("*a", n/2), a, true},
		{"many stars, no match", strings.Repeat("*a", n/2) + "*b*", a, false},
		{"long literal, near misses", "*" + strings.Repeat("a", n/2) + "b*", a, false},
		{"long literal, late match", "*" + strings.Repeat("a", n/2) + "b*", a + "b", true},
		{"periodic literal", "*" + strings.Repeat("ab", n/4) + "c*", strings.Repeat("ab", n/2), false},
		{"short literals, near misses", strings.Repeat("*"+strings.Repeat("a", 63)+"b", 100) + "*", a, false},
		{"anchored ends", a + "*" + a, a + a, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := compilePattern(tt.pattern)
			got, steps := p.matchSteps(tt.s)
			if got != tt.want {
				t.Errorf("match = %v, want %v", got, tt.want)
			}
			// 2 per byte of the string (KMP) plus the literals' lengths.
			if limit := 2*len(tt.s) + len(tt.pattern); steps > limit {
				t.Errorf("%d steps for a %d-byte pattern and a %d-byte string, want at most %d",
					steps, len(tt.pattern), len(tt.s), limit)
			}
		})
	}
}

// oldMatchPattern is the matcher StringMatches used before the linear one:
// the same leftmost-literal strategy with a naive substring search, kept as
// the fuzz target's reference.
func oldMatchPattern(parts []patPart, s string) bool {
	i := 0
	if i < len(parts) && !parts[i].star {
		if !strings.HasPrefix(s, parts[i].lit) {
			return false
		}
		s = s[len(parts[i].lit):]
		i++
	}
	if i == len(parts) {
		return s == ""
	}
	for i < len(parts) {
		if parts[i].star {
			i++
			continue
		}
		lit := parts[i].lit
		if i == len(parts)-1 {
			return len(s) >= len(lit) && s[len(s)-len(lit):] == lit
		}
		j := -1
		for k := 0; k+len(lit) <= len(s); k++ {
			if s[k:k+len(lit)] == lit {
				j = k
				break
			}
		}
		if j < 0 {
			return false
		}
		s = s[j+len(lit):]
		i++
	}
	return true
}

// globRef is an obviously correct (exponential) glob matcher over the
// compiled parts, independent of the leftmost-literal argument.
func globRef(parts []patPart, s string) bool {
	if len(parts) == 0 {
		return s == ""
	}
	if parts[0].star {
		for k := 0; k <= len(s); k++ {
			if globRef(parts[1:], s[k:]) {
				return true
			}
		}
		return false
	}
	return strings.HasPrefix(s, parts[0].lit) && globRef(parts[1:], s[len(parts[0].lit):])
}

// FuzzStringMatches compares the linear matcher, with short and KMP literal
// searches, against the old matcher and a backtracking reference.
func FuzzStringMatches(f *testing.F) {
	f.Add("foo*.log", "foo23.log")
	f.Add("a*b*c", "aXbYbZc")
	f.Add(`a\*b*\\`, `a*bxx\`)
	f.Add("*aab*ab", "aaabaabab")
	f.Add("*abab*", "abaabab")
	f.Add("**a", "a")
	f.Fuzz(func(t *testing.T, pat, s string) {
		if len(pat) > 64 || len(s) > 64 || strings.Count(pat, "*") > 8 {
			return
		}
		p, _ := compilePattern(pat)
		want := oldMatchPattern(p.parts, s)
		if ref := globRef(p.parts, s); ref != want {
			t.Fatalf("old matcher %q on %q = %v, reference %v", pat, s, want, ref)
		}
		if got := p.match(s); got != want {
			t.Fatalf("%q matches %q = %v, want %v", pat, s, got, want)
		}
		if got := forceKMP(p).match(s); got != want {
			t.Fatalf("%q matches %q with KMP = %v, want %v", pat, s, got, want)
		}
	})
}
