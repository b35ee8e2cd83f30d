package api

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
)

// checker collects model-constraint violations and renders them as AWS
// does: "1 validation error detected: Value '1001' at 'maxResults' failed
// to satisfy constraint: Member must have value less than or equal to 1000".
type checker struct {
	msgs []string
}

func (c *checker) add(value, member, constraint string) {
	c.msgs = append(c.msgs, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: %s", value, member, constraint))
}

func quoteValue(s string, sensitive bool) string {
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

// required checks that a member is present.
func (c *checker) required(member string, present bool) bool {
	if !present {
		c.add("null", member, "Member must not be null")
	}
	return present
}

// str checks a string member's length bounds (max < 0: none) and, when
// required, its presence.
func (c *checker) str(member string, v *string, required bool, min, max int, sensitive bool) {
	if v == nil {
		if required {
			c.required(member, false)
		}
		return
	}
	n := javaLen(*v)
	if n < min {
		c.add(quoteValue(*v, sensitive), member, fmt.Sprintf("Member must have length greater than or equal to %d", min))
	}
	if max >= 0 && n > max {
		c.add(quoteValue(*v, sensitive), member, fmt.Sprintf("Member must have length less than or equal to %d", max))
	}
}

// enum checks a string member against its allowed values.
func (c *checker) enum(member string, v *string, values ...string) {
	if v == nil {
		return
	}
	for _, x := range values {
		if *v == x {
			return
		}
	}
	c.add(quoteValue(*v, false), member, "Member must satisfy enum value set: ["+strings.Join(values, ", ")+"]")
}

// intRange checks an integer member's bounds.
func (c *checker) intRange(member string, v *int64, min, max int64) {
	if v == nil {
		return
	}
	if *v < min {
		c.add("'"+strconv.FormatInt(*v, 10)+"'", member, fmt.Sprintf("Member must have value greater than or equal to %d", min))
	}
	if *v > max {
		c.add("'"+strconv.FormatInt(*v, 10)+"'", member, fmt.Sprintf("Member must have value less than or equal to %d", max))
	}
}

// ascii checks the \p{ASCII}* pattern.
func (c *checker) ascii(member string, v *string) {
	if v == nil {
		return
	}
	for i := 0; i < len(*v); i++ {
		if (*v)[i] >= 0x80 {
			c.add(quoteValue(*v, false), member, `Member must satisfy regular expression pattern: \p{ASCII}*`)
			return
		}
	}
}

// err returns the ValidationException for the violations, or nil.
func (c *checker) err() error {
	switch len(c.msgs) {
	case 0:
		return nil
	case 1:
		return errValidation("1 validation error detected: " + c.msgs[0])
	}
	return errValidation(fmt.Sprintf("%d validation errors detected: %s", len(c.msgs), strings.Join(c.msgs, "; ")))
}
