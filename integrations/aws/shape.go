package awsint

// This file converts between Step Functions' JSON values (package value)
// and the typed input and output structs of the AWS SDK for Go v2, by
// reflection: members by their API (PascalCase) names, unions as
// single-member objects ({"S": "x"}), blobs as base64 (those a service
// declares JSON, as Lambda's Payload, as JSON text), timestamps as
// ISO 8601 text, streaming bodies as text.

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/value"
)

var (
	timeType       = reflect.TypeFor[time.Time]()
	readerType     = reflect.TypeFor[io.Reader]()
	readCloserType = reflect.TypeFor[io.ReadCloser]()
	bytesType      = reflect.TypeFor[[]byte]()
)

// maxBody bounds the streaming body a result reads (S3 GetObject's): 64
// times Step Functions' payload limit, which the engine applies to the
// whole result.
const maxBody = 64 * 262144

// instant formats a timestamp of a result as Java's Instant.toString
// (ISO 8601 in UTC, the fraction in groups of three digits, none when
// zero), as the AWS SDK for Java that Step Functions uses prints them.
func instant(t time.Time) string {
	t = t.UTC()
	ns := t.Nanosecond()
	switch {
	case ns == 0:
		return t.Format("2006-01-02T15:04:05Z")
	case ns%1e6 == 0:
		return t.Format("2006-01-02T15:04:05.000Z")
	case ns%1e3 == 0:
		return t.Format("2006-01-02T15:04:05.000000Z")
	}
	return t.Format("2006-01-02T15:04:05.000000000Z")
}

// unions maps a union interface of an SDK (types.AttributeValue) to its
// members by name ("S" → types.AttributeValueMemberS). Each member is a
// struct with one field, Value.
type unions map[reflect.Type]map[string]reflect.Type

// union registers the union interface I with its member structs: the name
// of a member is its type name less I's name and "Member"
// (AttributeValueMemberS → "S").
func union[I any](members ...I) func(unions) {
	iface := reflect.TypeFor[I]()
	return func(u unions) {
		m := make(map[string]reflect.Type, len(members))
		for _, x := range members {
			t := reflect.TypeOf(x)
			if t.Kind() == reflect.Pointer {
				t = t.Elem()
			}
			m[strings.TrimPrefix(t.Name(), iface.Name()+"Member")] = t
		}
		u[iface] = m
	}
}

// memberName returns the union member name of struct type t, if t is a
// member of a registered union.
func (u unions) memberName(t reflect.Type) (string, bool) {
	for _, m := range u {
		for name, mt := range m {
			if mt == t {
				return name, true
			}
		}
	}
	return "", false
}

// paramError is a parameter that does not fit the API's input shape.
type paramError struct {
	path, msg string
}

func (e *paramError) Error() string {
	if e.path == "" {
		return e.msg
	}
	return "parameter " + e.path + ": " + e.msg
}

// decoder fills SDK input structs from JSON values.
type decoder struct {
	unions unions
	// text names the blob members of the call's service that are JSON
	// text, not base64 (Lambda's Payload).
	text map[string]bool
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// decode converts v to a value of type t.
func (d decoder) decode(v any, t reflect.Type, path string) (reflect.Value, error) {
	bad := func(want string) (reflect.Value, error) {
		return reflect.Value{}, &paramError{path, fmt.Sprintf("expected %s, got %s", want, value.TypeName(v))}
	}
	if t == readerType {
		// A streaming body (S3 PutObject's Body): the value's JSON
		// text, a string too (AWS stores "text" with its quotes: the
		// ETag it reports for Body "text data" is the MD5 of
		// "\"text data\"").
		return reflect.ValueOf(bytes.NewReader(value.Marshal(v))), nil
	}
	if v == nil {
		// null is an absent member: the service answers for it (DynamoDB
		// PutItem with "Item": null is its ValidationException).
		return reflect.Zero(t), nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		e, err := d.decode(v, t.Elem(), path)
		if err != nil {
			return reflect.Value{}, err
		}
		p := reflect.New(t.Elem())
		p.Elem().Set(e)
		return p, nil
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			return bad("a string")
		}
		return reflect.ValueOf(s).Convert(t), nil
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return bad("a boolean")
		}
		return reflect.ValueOf(b).Convert(t), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		f, ok := value.ToFloat(v)
		if !ok || f != math.Trunc(f) {
			return bad("an integer")
		}
		r := reflect.New(t).Elem()
		if r.OverflowInt(int64(f)) {
			return bad("an integer in range")
		}
		r.SetInt(int64(f))
		return r, nil
	case reflect.Float32, reflect.Float64:
		f, ok := value.ToFloat(v)
		if !ok {
			return bad("a number")
		}
		r := reflect.New(t).Elem()
		r.SetFloat(f)
		return r, nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			s, ok := v.(string)
			if !ok {
				return bad("a base64 string")
			}
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return reflect.Value{}, &paramError{path, "expected base64 data: " + err.Error()}
			}
			return reflect.ValueOf(b).Convert(t), nil
		}
		a, ok := v.([]any)
		if !ok {
			return bad("an array")
		}
		r := reflect.MakeSlice(t, len(a), len(a))
		for i, x := range a {
			e, err := d.decode(x, t.Elem(), path+"["+strconv.Itoa(i)+"]")
			if err != nil {
				return reflect.Value{}, err
			}
			if e.IsValid() {
				r.Index(i).Set(e)
			}
		}
		return r, nil
	case reflect.Map:
		o, ok := v.(*value.Object)
		if !ok {
			return bad("an object")
		}
		if t.Key().Kind() != reflect.String {
			return reflect.Value{}, &paramError{path, "unsupported map key type " + t.Key().String()}
		}
		r := reflect.MakeMapWithSize(t, o.Len())
		for i := range o.Len() {
			k, x := o.At(i)
			e, err := d.decode(x, t.Elem(), join(path, k))
			if err != nil {
				return reflect.Value{}, err
			}
			if !e.IsValid() {
				e = reflect.Zero(t.Elem())
			}
			r.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), e)
		}
		return r, nil
	case reflect.Struct:
		if t == timeType {
			return d.time(v, path)
		}
		o, ok := v.(*value.Object)
		if !ok {
			return bad("an object")
		}
		r := reflect.New(t).Elem()
		fields := fieldsOf(t)
		for i := range o.Len() {
			k, x := o.At(i)
			idx, ok := fields.lookup(k)
			if !ok {
				return reflect.Value{}, &paramError{join(path, k), "not a member of " + t.Name()}
			}
			f := t.Field(idx)
			if f.Type == bytesType && d.text[f.Name] {
				// A blob that holds JSON (Lambda's Payload): the
				// value's JSON text.
				r.Field(idx).SetBytes(value.Marshal(x))
				continue
			}
			e, err := d.decode(x, f.Type, join(path, k))
			if err != nil {
				return reflect.Value{}, err
			}
			if e.IsValid() {
				r.Field(idx).Set(e)
			}
		}
		return r, nil
	case reflect.Interface:
		members, ok := d.unions[t]
		if !ok {
			return reflect.Value{}, &paramError{path, "unsupported parameter type " + t.String()}
		}
		o, ok := v.(*value.Object)
		if !ok || o.Len() != 1 {
			return reflect.Value{}, &paramError{path, "expected an object with exactly one member"}
		}
		k, x := o.At(0)
		mt, ok := members[k]
		if !ok {
			return reflect.Value{}, &paramError{join(path, k), "not a member of " + t.Name()}
		}
		m := reflect.New(mt)
		vf, ok := mt.FieldByName("Value")
		if !ok {
			return reflect.Value{}, &paramError{path, "unsupported union member " + mt.Name()}
		}
		e, err := d.decode(x, vf.Type, join(path, k))
		if err != nil {
			return reflect.Value{}, err
		}
		if e.IsValid() {
			m.Elem().FieldByIndex(vf.Index).Set(e)
		}
		if m.Type().Implements(t) {
			return m, nil
		}
		return m.Elem(), nil
	}
	return reflect.Value{}, &paramError{path, "unsupported parameter type " + t.String()}
}

// time parses a timestamp: ISO 8601 text or epoch seconds.
func (d decoder) time(v any, path string) (reflect.Value, error) {
	switch x := v.(type) {
	case string:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02"} {
			if tm, err := time.Parse(layout, x); err == nil {
				return reflect.ValueOf(tm), nil
			}
		}
		return reflect.Value{}, &paramError{path, "expected an ISO 8601 timestamp, got " + strconv.Quote(x)}
	default:
		if f, ok := value.ToFloat(v); ok {
			sec, frac := math.Modf(f)
			return reflect.ValueOf(time.Unix(int64(sec), int64(frac*1e9)).UTC()), nil
		}
	}
	return reflect.Value{}, &paramError{path, "expected a timestamp, got " + value.TypeName(v)}
}

// encoder converts SDK output structs to JSON values.
type encoder struct {
	unions unions
	text   map[string]bool // as decoder's
}

// encode converts v; ok is false for what a result omits (nil pointers,
// slices and maps, the SDK's bookkeeping).
func (e encoder) encode(v reflect.Value) (out any, ok bool, err error) {
	if !v.IsValid() {
		return nil, false, nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil, false, nil
		}
		return e.encode(v.Elem())
	case reflect.Interface:
		if v.IsNil() {
			return nil, false, nil
		}
		if v.Type() == readCloserType || v.Type() == readerType {
			// A streaming body (S3 GetObject's Body): its text.
			r := v.Interface().(io.Reader)
			b, err := io.ReadAll(io.LimitReader(r, maxBody+1))
			if c, ok := r.(io.Closer); ok {
				_ = c.Close()
			}
			if err != nil {
				return nil, false, fmt.Errorf("read body: %w", err)
			}
			if len(b) > maxBody {
				// Far beyond any task result the engine accepts: not
				// read further.
				return nil, false, fault.Newf(fault.DataLimitExceeded, "The response body is larger than %d bytes.", maxBody)
			}
			return string(b), true, nil
		}
		return e.encode(v.Elem())
	case reflect.String:
		return v.String(), true, nil
	case reflect.Bool:
		return v.Bool(), true, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), true, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int64(v.Uint()), true, nil
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		return value.Number(f, false), true, nil
	case reflect.Slice:
		if v.IsNil() {
			return nil, false, nil
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return base64.StdEncoding.EncodeToString(v.Convert(bytesType).Bytes()), true, nil
		}
		a := make([]any, 0, v.Len())
		for i := range v.Len() {
			x, ok, err := e.encode(v.Index(i))
			if err != nil {
				return nil, false, err
			}
			if !ok {
				x = nil
			}
			a = append(a, x)
		}
		return a, true, nil
	case reflect.Map:
		if v.IsNil() {
			return nil, false, nil
		}
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		o := value.NewObject(len(keys))
		for _, k := range keys {
			x, ok, err := e.encode(v.MapIndex(k))
			if err != nil {
				return nil, false, err
			}
			if !ok {
				x = nil
			}
			o.Set(k.String(), x)
		}
		return o, true, nil
	case reflect.Struct:
		t := v.Type()
		if t == timeType {
			return instant(v.Interface().(time.Time)), true, nil
		}
		if name, ok := e.unions.memberName(t); ok {
			x, ok, err := e.encode(v.FieldByName("Value"))
			if err != nil {
				return nil, false, err
			}
			if !ok {
				x = nil
			}
			o := value.NewObject(1)
			o.Set(name, x)
			return o, true, nil
		}
		fields := fieldsOf(t)
		o := value.NewObject(len(fields.order))
		for _, i := range fields.order {
			f := v.Field(i)
			if f.Kind() == reflect.String && f.Len() == 0 {
				// An enum the response did not set.
				continue
			}
			if f.Type() == bytesType && e.text[t.Field(i).Name] && !f.IsNil() {
				o.Set(t.Field(i).Name, string(f.Bytes()))
				continue
			}
			x, ok, err := e.encode(f)
			if err != nil {
				return nil, false, err
			}
			if ok {
				o.Set(t.Field(i).Name, x)
			}
		}
		return o, true, nil
	}
	return nil, false, nil
}

// structFields is the API members of an SDK struct type.
type structFields struct {
	order  []int          // field indexes, in declaration order
	byName map[string]int // exact names
	folded map[string]int // lowercase names
}

func (f *structFields) lookup(name string) (int, bool) {
	if i, ok := f.byName[name]; ok {
		return i, true
	}
	i, ok := f.folded[strings.ToLower(name)]
	return i, ok
}

var fieldCache sync.Map // reflect.Type → *structFields

// fieldsOf returns the API members of struct type t: its exported fields
// but the SDK's ResultMetadata.
func fieldsOf(t reflect.Type) *structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*structFields)
	}
	f := &structFields{byName: make(map[string]int), folded: make(map[string]int)}
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() || sf.Name == "ResultMetadata" {
			continue
		}
		f.order = append(f.order, i)
		f.byName[sf.Name] = i
		f.folded[strings.ToLower(sf.Name)] = i
	}
	fieldCache.Store(t, f)
	return f
}
