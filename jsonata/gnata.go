package jsonata

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/recolabs/gnata"

	"github.com/stepwell/stepwell/value"
)

// program is an expression compiled by gnata, with the names of the
// variables it may read (bound per evaluation from Env.Vars).
type program struct {
	expr *gnata.Expression
	vars []string
}

func compileProgram(src string) (*program, error) {
	x, err := gnata.Compile(src)
	if err != nil {
		return nil, compileError(src, err)
	}
	return &program{expr: x, vars: freeVariables(src)}, nil
}

func (p *program) eval(ctx context.Context, env *Env) (any, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, &Error{Code: codeCanceled, Message: err.Error(), Position: -1}
	}
	bind := make(map[string]any, len(p.vars)+len(awsFunctions)+1)
	for name, fn := range awsFunctions {
		bind[name] = fn
	}
	states := value.NewObject(4)
	states.Set("input", env.Input)
	states.Set("context", env.Context)
	if env.HasResult {
		states.Set("result", env.Result)
	}
	if env.HasErrorOutput {
		states.Set("errorOutput", env.ErrorOutput)
	}
	s, err := toGnata(states)
	if err != nil {
		return nil, false, err
	}
	bind["states"] = s
	if env.Vars != nil {
		for _, name := range p.vars {
			if v, ok := env.Vars.Var(name); ok {
				g, err := toGnata(v)
				if err != nil {
					return nil, false, err
				}
				bind[name] = g
			}
		}
	}
	r, err := p.expr.EvalWithVars(ctx, nil, bind)
	if err != nil {
		return nil, false, evalError(ctx, err)
	}
	if r == nil {
		return nil, false, nil
	}
	v, err := fromGnata(r)
	if err != nil {
		return nil, false, err
	}
	return v, true, nil
}

// toGnata converts a value into gnata's representation (JSON numbers as
// json.Number, objects as its ordered map, null as its sentinel).
func toGnata(v any) (any, error) {
	g, err := gnata.DecodeJSON(value.Marshal(v))
	if err != nil {
		return nil, &Error{Code: "D1001", Message: "cannot convert input: " + err.Error(), Position: -1}
	}
	return g, nil
}

// orderedMap is what gnata's ordered map offers.
type orderedMap interface {
	Keys() []string
	Get(key string) (any, bool)
}

// fromGnata converts a gnata result into a value. Numbers become int64 when
// integral and exactly representable, float64 otherwise.
func fromGnata(r any) (any, error) {
	switch x := r.(type) {
	case nil:
		return nil, nil
	case bool, string:
		return x, nil
	case float64:
		return number(x)
	case json.Number:
		// A number from the input, passed through: exact (an int64 or
		// *big.Int stays as it was).
		n, ok := value.ParseNumber(string(x))
		if !ok {
			return nil, &Error{Code: "D1001", Message: "Number out of range: " + string(x), Position: -1}
		}
		if f, isFloat := n.(float64); isFloat {
			return number(f)
		}
		return n, nil
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			if e == nil {
				continue
			}
			v, err := fromGnata(e)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case orderedMap:
		keys := x.Keys()
		o := value.NewObject(len(keys))
		for _, k := range keys {
			e, _ := x.Get(k)
			if e == nil {
				continue
			}
			v, err := fromGnata(e)
			if err != nil {
				return nil, err
			}
			o.Set(k, v)
		}
		return o, nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		o := value.NewObject(len(keys))
		for _, k := range keys {
			if x[k] == nil {
				continue
			}
			v, err := fromGnata(x[k])
			if err != nil {
				return nil, err
			}
			o.Set(k, v)
		}
		return o, nil
	}
	if gnata.IsNull(r) {
		return nil, nil
	}
	if isFunction(r) {
		// JSON.stringify drops functions; a function is no JSON value.
		return nil, nil
	}
	return nil, &Error{Code: "D1001", Message: fmt.Sprintf("unexpected result type %T", r), Position: -1}
}

func isFunction(r any) bool {
	t := reflect.TypeOf(r)
	return t.Kind() == reflect.Func || (t.Kind() == reflect.Pointer && t.Elem().Name() == "Lambda") || t.Name() == "SignedBuiltin"
}

// number returns f as a value number: int64 when integral and exact.
func number(f float64) (any, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, &Error{Code: "D1001", Message: "Number out of range: " + strconv.FormatFloat(f, 'g', -1, 64), Position: -1}
	}
	if f == 0 {
		return int64(0), nil
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
		return int64(f), nil
	}
	return f, nil
}

// Codes of Stepwell's own errors.
const (
	codeLimit    = "SW001"
	codeCanceled = "SW002"
	codeFunction = "SW003"
)

var parseErrorForm = regexp.MustCompile(`^JSONata error (\w+)(?: at token "((?:[^"\\]|\\.)*)")?: (.*)$`)

// compileError turns a gnata parse error into an *Error.
func compileError(src string, err error) error {
	e := &Error{Code: "S0201", Message: err.Error(), Position: -1}
	if m := parseErrorForm.FindStringSubmatch(err.Error()); m != nil {
		e.Code, e.Message = m[1], m[3]
		if tok, uerr := strconv.Unquote(`"` + m[2] + `"`); uerr == nil && tok != "" {
			e.Token = tok
			e.Position = strings.Index(src, tok)
		}
	}
	var je *Error
	if errors.As(err, &je) {
		return je
	}
	return evalErrorFields(e, err)
}

// evalError turns a gnata evaluation error into an *Error.
func evalError(ctx context.Context, err error) error {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Code: codeCanceled, Message: "evaluation canceled: " + context.Cause(ctx).Error(), Position: -1}
	}
	return evalErrorFields(&Error{Code: "D1001", Message: err.Error(), Position: -1}, err)
}

// evalErrorFields copies Code, Message and Token from gnata's JSONataError
// (an internal type, read by reflection) into e.
func evalErrorFields(e *Error, err error) error {
	rv := reflect.ValueOf(err)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return e
	}
	s := rv.Elem()
	str := func(name string) string {
		f := s.FieldByName(name)
		if f.IsValid() && f.Kind() == reflect.String {
			return f.String()
		}
		return ""
	}
	if c := str("Code"); c != "" {
		e.Code = c
		e.Message = str("Message")
		e.Token = str("Token")
		if e.Message == "" {
			e.Message = err.Error()
		}
	}
	return e
}

// freeVariables returns the names of the variables src may read: every
// "$name" outside string literals, except $states and JSONata's own.
func freeVariables(src string) []string {
	var names []string
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '"', '\'':
			for i++; i < len(src) && src[i] != c; i++ {
				if src[i] == '\\' {
					i++
				}
			}
		case '`':
			for i++; i < len(src) && src[i] != '`'; i++ {
			}
		case '/':
			if i+1 < len(src) && src[i+1] == '*' {
				end := strings.Index(src[i+2:], "*/")
				if end < 0 {
					return names
				}
				i += end + 3
			}
		case '$':
			j := i + 1
			for j < len(src) && isNameByte(src[j]) {
				j++
			}
			if name := src[i+1 : j]; name != "" && name != "states" && !slices.Contains(names, name) {
				names = append(names, name)
			}
			i = j - 1
		}
	}
	return names
}

func isNameByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
