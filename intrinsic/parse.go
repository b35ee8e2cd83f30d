// Package intrinsic implements the Amazon States Language intrinsic
// functions (States.Format, States.Array, States.MathAdd, …) of JSONPath
// mode: a parser that compiles a call once per definition, and an evaluator
// that reproduces AWS's observed results and failures.
//
// Parse rejects what AWS rejects when a definition is created (bad syntax,
// unknown function names, bad escapes, nesting deeper than 10 calls). Wrong
// argument counts and types are accepted by AWS at definition time and fail
// when the call runs, so Eval reports them as a *fault.Error named
// States.Runtime with the cause "Invalid arguments in States.<Name>".
package intrinsic

import (
	"fmt"
	"strings"

	"github.com/stepwell/stepwell/jsonpath"
	"github.com/stepwell/stepwell/value"
)

// MaxNesting is the deepest nesting of intrinsic calls AWS accepts in one
// field.
const MaxNesting = 10

// SyntaxError describes an intrinsic call that does not parse.
type SyntaxError struct {
	Msg    string
	Offset int // byte offset in the call text
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid intrinsic function call at offset %d: %s", e.Offset, e.Msg)
}

// Resolver supplies the values of path arguments: the engine implements it
// over the state's input, the Context object and the variables. Errors it
// returns are passed through Eval unchanged.
type Resolver interface {
	Resolve(p *jsonpath.Path) (any, error)
}

// Call is a compiled intrinsic function call. It is immutable and safe for
// concurrent use.
type Call struct {
	fn    *function
	args  []arg
	src   string
	paths []*jsonpath.Path
}

type argKind uint8

const (
	argLiteral argKind = iota
	argPath
	argCall
)

// arg is one compiled argument.
type arg struct {
	kind argKind
	lit  any            // argLiteral
	path *jsonpath.Path // argPath
	call *Call          // argCall
	// tmpl is set when the argument is a string literal: its text with the
	// escapes still visible, which States.Format needs to tell an escaped
	// brace from a placeholder.
	tmpl *template
}

// IsIntrinsic reports whether s looks like an intrinsic function call: it
// starts with "States." after optional spaces.
func IsIntrinsic(s string) bool {
	return strings.HasPrefix(strings.TrimLeft(s, " \t\r\n"), "States.")
}

// Parse compiles an intrinsic function call such as
// "States.Format('x {}', $.a, States.Array(1))".
func Parse(s string) (*Call, error) {
	p := &parser{src: s}
	p.skipWS()
	c, err := p.call(1)
	if err != nil {
		return nil, err
	}
	p.skipWS()
	if p.pos < len(p.src) {
		return nil, p.errorf("unexpected %q after the call", p.rest())
	}
	c.src = strings.TrimSpace(s)
	c.paths = collectPaths(c, nil)
	return c, nil
}

// String returns the call's text.
func (c *Call) String() string { return c.src }

// Name returns the function name, e.g. "States.Format".
func (c *Call) Name() string { return c.fn.name }

// Paths returns every path argument of the call and of its nested calls, in
// source order. The slice must not be modified.
func (c *Call) Paths() []*jsonpath.Path { return c.paths }

func collectPaths(c *Call, dst []*jsonpath.Path) []*jsonpath.Path {
	for i := range c.args {
		switch c.args[i].kind {
		case argPath:
			dst = append(dst, c.args[i].path)
		case argCall:
			dst = collectPaths(c.args[i].call, dst)
		}
	}
	return dst
}

type parser struct {
	src string
	pos int
}

func (p *parser) errorf(format string, args ...any) error {
	return &SyntaxError{Msg: fmt.Sprintf(format, args...), Offset: p.pos}
}

func (p *parser) rest() string {
	r := p.src[p.pos:]
	if len(r) > 20 {
		r = r[:20] + "…"
	}
	return r
}

func (p *parser) skipWS() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func isNameByte(c byte) bool {
	return c == '.' || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// call parses Name(args…) at p.pos; depth is 1 for the outermost call.
func (p *parser) call(depth int) (*Call, error) {
	if depth > MaxNesting {
		return nil, p.errorf("intrinsic functions nested deeper than %d", MaxNesting)
	}
	start := p.pos
	for p.pos < len(p.src) && isNameByte(p.src[p.pos]) {
		p.pos++
	}
	name := p.src[start:p.pos]
	if name == "" {
		return nil, p.errorf("expecting an intrinsic function name")
	}
	fn := lookup(name)
	if fn == nil {
		p.pos = start
		return nil, p.errorf("unknown intrinsic function %q", name)
	}
	p.skipWS()
	if p.pos >= len(p.src) || p.src[p.pos] != '(' {
		return nil, p.errorf("expecting '(' after %s", name)
	}
	p.pos++
	c := &Call{fn: fn}
	p.skipWS()
	if p.pos < len(p.src) && p.src[p.pos] == ')' {
		p.pos++
		return c, nil
	}
	for {
		p.skipWS()
		a, err := p.arg(depth)
		if err != nil {
			return nil, err
		}
		c.args = append(c.args, a)
		p.skipWS()
		if p.pos >= len(p.src) {
			return nil, p.errorf("unexpected end of input, expecting ',' or ')'")
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case ')':
			p.pos++
			return c, nil
		default:
			return nil, p.errorf("unexpected %q, expecting ',' or ')'", p.rest())
		}
	}
}

func (p *parser) arg(depth int) (arg, error) {
	if p.pos >= len(p.src) {
		return arg{}, p.errorf("unexpected end of input, expecting an argument")
	}
	c := p.src[p.pos]
	switch {
	case c == '\'':
		return p.stringLit()
	case c == '$':
		return p.pathArg()
	case c == '-' || (c >= '0' && c <= '9'):
		return p.numberLit()
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		start := p.pos
		for p.pos < len(p.src) && isNameByte(p.src[p.pos]) {
			p.pos++
		}
		word := p.src[start:p.pos]
		switch word {
		case "null":
			return arg{kind: argLiteral, lit: nil}, nil
		case "true":
			return arg{kind: argLiteral, lit: true}, nil
		case "false":
			return arg{kind: argLiteral, lit: false}, nil
		}
		p.pos = start
		sub, err := p.call(depth + 1)
		if err != nil {
			return arg{}, err
		}
		return arg{kind: argCall, call: sub}, nil
	}
	return arg{}, p.errorf("unexpected %q, expecting an argument", p.rest())
}

// stringLit parses a single-quoted string. The escapes \' \{ \} \\ are the
// only ones allowed.
func (p *parser) stringLit() (arg, error) {
	p.pos++ // opening quote
	start := p.pos
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch c {
		case '\'':
			raw := p.src[start:p.pos]
			p.pos++
			s := b.String()
			return arg{kind: argLiteral, lit: s, tmpl: compileTemplate(raw)}, nil
		case '\\':
			if p.pos+1 >= len(p.src) {
				return arg{}, p.errorf("unterminated escape in string")
			}
			e := p.src[p.pos+1]
			switch e {
			case '\'', '{', '}', '\\':
				b.WriteByte(e)
				p.pos += 2
			default:
				return arg{}, p.errorf("invalid escape \\%c in string", e)
			}
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	p.pos = start - 1
	return arg{}, p.errorf("unterminated string")
}

// pathArg parses a path argument: it runs to the next ',' or ')' (or space)
// outside brackets, parentheses and quotes.
func (p *parser) pathArg() (arg, error) {
	start := p.pos
	depth := 0
	var quote byte
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if quote != 0 {
			if c == '\\' && p.pos+1 < len(p.src) {
				p.pos += 2
				continue
			}
			if c == quote {
				quote = 0
			}
			p.pos++
			continue
		}
		if depth > 0 && (c == '\'' || c == '"') {
			quote = c
			p.pos++
			continue
		}
		if c == '[' || c == '(' {
			depth++
		} else if (c == ']' || c == ')') && depth > 0 {
			depth--
		} else if depth == 0 && (c == ',' || c == ')' || c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			break
		}
		p.pos++
	}
	text := p.src[start:p.pos]
	path, err := jsonpath.Compile(text)
	if err != nil {
		p.pos = start
		return arg{}, p.errorf("invalid path %q: %v", text, err)
	}
	return arg{kind: argPath, path: path}, nil
}

// numberLit parses a JSON number.
func (p *parser) numberLit() (arg, error) {
	start := p.pos
	if p.src[p.pos] == '-' {
		p.pos++
	}
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-' {
			p.pos++
			continue
		}
		break
	}
	v, ok := value.ParseNumber(p.src[start:p.pos])
	if !ok {
		text := p.src[start:p.pos]
		p.pos = start
		return arg{}, p.errorf("invalid number %q", text)
	}
	return arg{kind: argLiteral, lit: v}, nil
}
