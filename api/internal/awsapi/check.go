package awsapi

import (
	"strconv"
	"strings"
	"unicode/utf16"
)

// checker collects the model-constraint violations of a request and
// renders them as AWS does: "1 validation error detected: Value '1001' at
// 'maxResults' failed to satisfy constraint: Member must have value less
// than or equal to 1000". It allocates only for violations.
type checker struct {
	msgs []string
}

func (c *checker) add(value, p, name, constraint string) {
	c.msgs = append(c.msgs, "Value "+value+" at '"+p+name+"' failed to satisfy constraint: "+constraint)
}

// quote renders a string value; sensitive members are redacted.
func quote(s string, sensitive bool) string {
	if sensitive {
		return "'*** Sensitive Data Redacted ***'"
	}
	return "'" + s + "'"
}

// javaLen is the length Java (and so AWS) measures: UTF-16 code units.
func javaLen(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// null reports a required member that is absent (or JSON null).
func (c *checker) null(p, name string) {
	c.add("null", p, name, "Member must not be null")
}

// length checks a string's length bounds in UTF-16 code units (max < 0:
// none). A string never has more code units than UTF-8 bytes, so the
// units are counted only when the byte length cannot decide.
func (c *checker) length(p, name, s string, min, max int, sensitive bool) {
	n := len(s)
	if (min > 1 && n >= min) || (max >= 0 && n > max) {
		n = javaLen(s)
	}
	if n < min {
		c.add(quote(s, sensitive), p, name, "Member must have length greater than or equal to "+strconv.Itoa(min))
	}
	if max >= 0 && n > max {
		c.add(quote(s, sensitive), p, name, "Member must have length less than or equal to "+strconv.Itoa(max))
	}
}

// pattern reports a string that does not match its pattern.
func (c *checker) pattern(p, name, s, pattern string, sensitive bool) {
	c.add(quote(s, sensitive), p, name, "Member must satisfy regular expression pattern: "+pattern)
}

// enum reports a string outside its enum; set is "[A, B]".
func (c *checker) enum(p, name, s, set string, sensitive bool) {
	c.add(quote(s, sensitive), p, name, "Member must satisfy enum value set: "+set)
}

// intRange checks an integer's bounds.
func (c *checker) intRange(p, name string, v, lo, hi int64) {
	switch {
	case v < lo:
		c.add("'"+strconv.FormatInt(v, 10)+"'", p, name, "Member must have value greater than or equal to "+strconv.FormatInt(lo, 10))
	case v > hi:
		c.add("'"+strconv.FormatInt(v, 10)+"'", p, name, "Member must have value less than or equal to "+strconv.FormatInt(hi, 10))
	}
}

// floatRange checks a float's bounds.
func (c *checker) floatRange(p, name string, v, lo, hi float64) {
	switch {
	case v < lo:
		c.add("'"+formatFloat(v)+"'", p, name, "Member must have value greater than or equal to "+formatFloat(lo))
	case v > hi:
		c.add("'"+formatFloat(v)+"'", p, name, "Member must have value less than or equal to "+formatFloat(hi))
	}
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// listLength reports a list that is too short (or, over, too long); text
// is the list as Java shows it.
func (c *checker) listLength(p, name, text string, over bool, bound int) {
	if over {
		c.add("'"+text+"'", p, name, "Member must have length less than or equal to "+strconv.Itoa(bound))
		return
	}
	c.add("'"+text+"'", p, name, "Member must have length greater than or equal to "+strconv.Itoa(bound))
}

// listText is a list as Java's toString shows it: "[a, b]".
func listText(items []string) string { return "[" + strings.Join(items, ", ") + "]" }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefInt(i *int64) int64 {
	if i == nil {
		return 0
	}
	return *i
}

// err returns the ValidationException for the violations, or nil.
func (c *checker) err() error {
	switch len(c.msgs) {
	case 0:
		return nil
	case 1:
		return ValidationException("1 validation error detected: " + c.msgs[0])
	}
	return ValidationException(strconv.Itoa(len(c.msgs)) + " validation errors detected: " + strings.Join(c.msgs, "; "))
}

// The matchers of the model's patterns (gen.patterns names them), whole
// string as Java's String.matches.

// isASCII matches \p{ASCII}*.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// isVisibleASCII matches [!-~]+.
func isVisibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '!' || s[i] > '~' {
			return false
		}
	}
	return s != ""
}

// isCharacterRestrictedName matches ^(?=.*[a-zA-Z_\-\.])[a-zA-Z0-9_\-\.]+$:
// letters, digits, '_', '-' and '.', at least one of them not a digit (so
// that an alias name cannot be read as a version number).
func isCharacterRestrictedName(s string) bool {
	nonDigit := false
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case b >= '0' && b <= '9':
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b == '_', b == '-', b == '.':
			nonDigit = true
		default:
			return false
		}
	}
	return nonDigit
}
