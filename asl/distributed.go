package asl

import (
	"strings"

	"github.com/stepwell/stepwell/jsonpath"
	"github.com/stepwell/stepwell/value"
)

// This file loads a Map state's ItemReader, ItemBatcher and ResultWriter
// (checklist §11.4). The raw objects stay on State (ItemReader, ItemBatcher,
// ResultWriter); the compiled forms below are what the engine reads.
//
// AWS accepts these fields at definition time whatever the processor mode
// (an ItemReader on an INLINE Map validates; ToleratedFailure* on an inline
// JSONata Map runs), so the mode is not checked here.

// ItemReaderDef is a compiled Map ItemReader.
type ItemReaderDef struct {
	// Resource as written: arn:<partition>:states:::s3:getObject or
	// arn:<partition>:states:::s3:listObjectsV2.
	Resource string
	// Action is the S3 action of Resource: "getObject" or "listObjectsV2".
	Action string
	// Parameters is the JSONPath-mode payload template ({Bucket, Key, …}).
	Parameters *Template
	// Arguments is the JSONata-mode value as written (an object or a
	// JSONata string); HasArguments tells whether present.
	Arguments    any
	HasArguments bool
	// Args is Arguments compiled (JSONata mode; nil when absent).
	Args *Query

	// ReaderConfig. Empty strings mean "not set".
	InputType         string // CSV, JSON, JSONL, MANIFEST or PARQUET
	CSVHeaderLocation string // FIRST_ROW or GIVEN
	CSVHeaders        []string
	CSVDelimiter      string // COMMA, PIPE, SEMICOLON, SPACE or TAB
	Transformation    string // NONE or LOAD_AND_FLATTEN
	ManifestType      string // ATHENA_DATA or S3_INVENTORY
	ItemsPointer      string // a JSON Pointer into a JSON file
	MaxItems          *int64 // 0 means no limit
	MaxItemsPath      *jsonpath.Path
	MaxItemsExpr      string // JSONata expression for MaxItems
	MaxItemsQuery     *Query // MaxItemsExpr compiled
}

// ItemBatcherDef is a compiled Map ItemBatcher.
type ItemBatcherDef struct {
	MaxItemsPerBatch          *int64
	MaxItemsPerBatchPath      *jsonpath.Path
	MaxItemsPerBatchExpr      string // JSONata expression
	MaxInputBytesPerBatch     *int64
	MaxInputBytesPerBatchPath *jsonpath.Path
	MaxInputBytesPerBatchExpr string // JSONata expression
	// BatchInput is a payload template in JSONPath mode, a literal (the
	// JSONata value as written) in JSONata mode; nil when absent.
	BatchInput *Template
	// The JSONata fields compiled (nil when absent or literal).
	MaxItemsPerBatchQuery      *Query
	MaxInputBytesPerBatchQuery *Query
	BatchInputQuery            *Query
}

// ResultWriterDef is a compiled Map ResultWriter.
type ResultWriterDef struct {
	// Resource is arn:<partition>:states:::s3:putObject, or empty when the
	// ResultWriter only has a WriterConfig (no export).
	Resource     string
	Parameters   *Template // JSONPath: {Bucket, Prefix}
	Arguments    any       // JSONata: an object or a JSONata string
	HasArguments bool
	Args         *Query // Arguments compiled (JSONata mode; nil when absent)
	// WriterConfig; empty when absent (AWS then uses NONE for an export).
	OutputType     string // JSON or JSONL
	Transformation string // NONE, COMPACT or FLATTEN
}

// Limits of the Distributed Map fields.
const (
	maxReaderItems        = 100000000
	maxBatchInputBytes    = 262144
	resourceNotRecognized = " is not recognized. The value is not a valid resource ARN, or the resource is not available in this region."
)

// Enumerations, in the order AWS lists them.
var (
	inputTypes        = []string{"CSV", "JSON", "JSONL", "MANIFEST", "PARQUET"}
	csvHeaderLocation = []string{"FIRST_ROW", "GIVEN"}
	csvDelimiters     = []string{"COMMA", "PIPE", "SEMICOLON", "SPACE", "TAB"}
	readerTransforms  = []string{"NONE", "LOAD_AND_FLATTEN"}
	manifestTypes     = []string{"ATHENA_DATA", "S3_INVENTORY"}
	outputTypes       = []string{"JSON", "JSONL"}
	writerTransforms  = []string{"NONE", "COMPACT", "FLATTEN"}
)

// enumText renders an enumeration as AWS does: [A, B, C].
func enumText(vals []string) string { return "[" + strings.Join(vals, ", ") + "]" }

func inEnum(s string, vals []string) bool {
	for _, v := range vals {
		if s == v {
			return true
		}
	}
	return false
}

// enum reads an optional string member that must be one of vals.
func (l *loader) enum(o *value.Object, at, key string, vals []string) string {
	v, ok := o.Get(key)
	if !ok {
		return ""
	}
	s, isStr := v.(string)
	if !isStr {
		l.schema(loc(at, key), "Expected value of type [STRING]")
		return ""
	}
	if !inEnum(s, vals) {
		l.schema(loc(at, key), oneOf(enumText(vals)))
		return ""
	}
	return s
}

// s3Action returns the action of an S3 service-integration ARN
// (arn:<partition>:states:::s3:<action>), or "".
func s3Action(r string) string {
	parts := strings.SplitN(r, ":", 7)
	if len(parts) != 7 || parts[0] != "arn" || parts[1] == "" || parts[2] != "states" ||
		parts[3] != "" || parts[4] != "" || parts[5] != "s3" {
		return ""
	}
	return parts[6]
}

// members checks the members of a nested object: unknown ones, and the
// ones of the other query language (reported at the member, as AWS does
// for nested objects).
func (l *loader) members(o *value.Object, at string, fields map[string]lang, ql QueryLanguage) {
	for _, k := range o.Keys() {
		lg, ok := fields[k]
		switch {
		case !ok:
			l.schema(at, notSupported(k))
		case lg == langJP && ql == JSONata:
			l.schema(loc(at, k), onlyFor(JSONata, k))
		case lg == langJA && ql == JSONPath:
			l.schema(loc(at, k), onlyFor(JSONPath, k))
		}
	}
}

// exclusive reports a field given together with its Path variant (or
// another field it excludes).
func (l *loader) exclusive(o *value.Object, at, a, b string) {
	if o.Has(a) && o.Has(b) {
		l.schema(loc(at, a), "Only one of these fields is allowed: ["+a+", "+b+"]")
	}
}

// countField reads an integer field that JSONata states may give as an
// expression: it returns the literal, or the expression text.
func (l *loader) countField(o *value.Object, at, key string, ql QueryLanguage, min, max int64) (*int64, string) {
	v, ok := o.Get(key)
	if !ok {
		return nil, ""
	}
	if s, isStr := v.(string); isStr && ql == JSONata && strings.HasPrefix(strings.TrimSpace(s), "{%") {
		// An expression; a malformed one is reported by the JSONata
		// string check.
		return nil, s
	}
	return l.intField(o, at, key, min, max), ""
}

// jpOnlyPath compiles a JSONPath-only reference path member (reported
// already by members when the language is JSONata).
func (l *loader) jpOnlyPath(o *value.Object, at, key string, ql QueryLanguage) *jsonpath.Path {
	if ql == JSONata {
		return nil
	}
	return l.refPath(o, at, key)
}

// payload compiles the Parameters (JSONPath) or Arguments (JSONata) of an
// ItemReader or ResultWriter.
func (l *loader) payload(o *value.Object, at string, ql QueryLanguage) (params *Template, args any, hasArgs bool) {
	if ql == JSONata {
		args, hasArgs = o.Get("Arguments")
		if hasArgs {
			if _, isObj := args.(*value.Object); !isObj && !isJSONata(args) {
				l.schema(loc(at, "Arguments"), "Expected value of type [OBJECT]")
			}
		}
		return nil, args, hasArgs
	}
	if v, ok := o.Get("Parameters"); ok {
		params = l.template(o, at, "Parameters", true)
		l.noDollar(v, loc(at, "Parameters"))
	}
	return params, nil, false
}

// stringMembers checks that the literal members named keys of a payload
// (with or without ".$") are strings.
func (l *loader) stringMembers(v any, at string, keys ...string) {
	o, ok := v.(*value.Object)
	if !ok {
		return
	}
	for _, k := range keys {
		if mv, ok := o.Get(k); ok {
			if _, isStr := mv.(string); !isStr {
				l.schema(loc(at, k), "Expected value of type [STRING]")
			}
		}
	}
}

var itemReaderFields = map[string]lang{
	"Resource": langBoth, "ReaderConfig": langBoth, "Parameters": langJP, "Arguments": langJA,
}

var readerConfigFields = map[string]lang{
	"InputType": langBoth, "CSVHeaderLocation": langBoth, "CSVHeaders": langBoth, "CSVDelimiter": langBoth,
	"MaxItems": langBoth, "MaxItemsPath": langJP, "Transformation": langBoth, "ManifestType": langBoth,
	"ItemsPointer": langBoth,
}

// itemReader loads a Map's ItemReader.
func (l *loader) itemReader(o *value.Object, at string, ql QueryLanguage) *ItemReaderDef {
	l.members(o, at, itemReaderFields, ql)
	l.required(o, at, "Resource")
	r := &ItemReaderDef{}
	if v, ok := o.Get("Resource"); ok {
		s, isStr := v.(string)
		switch {
		case !isStr:
			l.schema(loc(at, "Resource"), "Expected value of type [STRING]")
		default:
			r.Resource, r.Action = s, s3Action(s)
			if r.Action != "getObject" && r.Action != "listObjectsV2" {
				l.schema(loc(at, "Resource"), "The resource provided "+s+resourceNotRecognized)
				r.Action = ""
			}
		}
	}
	r.Parameters, r.Arguments, r.HasArguments = l.payload(o, at, ql)
	if r.HasArguments {
		r.Args = distQuery(r.Arguments, "Arguments")
	}
	cv, hasConfig := o.Get("ReaderConfig")
	if !hasConfig {
		return r
	}
	cat := loc(at, "ReaderConfig")
	c, isObj := cv.(*value.Object)
	if !isObj {
		l.schema(cat, "Expected value of type [OBJECT]")
		return r
	}
	l.members(c, cat, readerConfigFields, ql)
	r.InputType = l.enum(c, cat, "InputType", inputTypes)
	r.CSVHeaderLocation = l.enum(c, cat, "CSVHeaderLocation", csvHeaderLocation)
	r.CSVDelimiter = l.enum(c, cat, "CSVDelimiter", csvDelimiters)
	r.Transformation = l.enum(c, cat, "Transformation", readerTransforms)
	r.ManifestType = l.enum(c, cat, "ManifestType", manifestTypes)
	r.ItemsPointer = l.str(c, cat, "ItemsPointer")
	if v, ok := c.Get("CSVHeaders"); ok {
		r.CSVHeaders = l.stringList(v, loc(cat, "CSVHeaders"))
	}
	var missing []string
	if r.Transformation == "LOAD_AND_FLATTEN" && !c.Has("InputType") {
		missing = append(missing, "InputType")
	}
	if r.CSVHeaderLocation == "GIVEN" && !c.Has("CSVHeaders") {
		missing = append(missing, "CSVHeaders")
	}
	if len(missing) > 0 {
		l.schema(cat, "These fields are required: ["+strings.Join(missing, ", ")+"]")
	}
	r.MaxItems, r.MaxItemsExpr = l.countField(c, cat, "MaxItems", ql, 0, maxReaderItems)
	if r.MaxItemsExpr != "" {
		r.MaxItemsQuery = distQuery(r.MaxItemsExpr, "MaxItems")
	}
	r.MaxItemsPath = l.jpOnlyPath(c, cat, "MaxItemsPath", ql)
	if ql == JSONPath {
		l.exclusive(c, cat, "MaxItems", "MaxItemsPath")
	}
	return r
}

// nonEmptyArray returns v as an array, reporting at at when it is not
// an array or is empty.
func (l *loader) nonEmptyArray(v any, at string) ([]any, bool) {
	arr, ok := v.([]any)
	if !ok {
		l.schema(at, "Expected value of type [ARRAY]")
		return nil, false
	}
	if len(arr) == 0 {
		l.schema(at, "Value cannot be empty")
		return nil, false
	}
	return arr, true
}

// stringList reads a non-empty array of strings.
func (l *loader) stringList(v any, at string) []string {
	arr, isArr := l.nonEmptyArray(v, at)
	if !isArr {
		return nil
	}
	out := make([]string, 0, len(arr))
	for i, e := range arr {
		s, isStr := e.(string)
		if !isStr {
			l.schema(locIdx(at, i), "Expected value of type [STRING]")
			continue
		}
		out = append(out, s)
	}
	return out
}

var itemBatcherFields = map[string]lang{
	"BatchInput":       langBoth,
	"MaxItemsPerBatch": langBoth, "MaxItemsPerBatchPath": langJP,
	"MaxInputBytesPerBatch": langBoth, "MaxInputBytesPerBatchPath": langJP,
}

// itemBatcher loads a Map's ItemBatcher.
func (l *loader) itemBatcher(o *value.Object, at string, ql QueryLanguage) *ItemBatcherDef {
	l.members(o, at, itemBatcherFields, ql)
	b := &ItemBatcherDef{}
	if !o.Has("MaxItemsPerBatch") && !o.Has("MaxItemsPerBatchPath") &&
		!o.Has("MaxInputBytesPerBatch") && !o.Has("MaxInputBytesPerBatchPath") {
		l.schema(at, "At least one of these fields is required: [MaxItemsPerBatch, MaxItemsPerBatchPath, MaxInputBytesPerBatch, MaxInputBytesPerBatchPath]")
	}
	b.MaxItemsPerBatch, b.MaxItemsPerBatchExpr = l.countField(o, at, "MaxItemsPerBatch", ql, 1, math32)
	b.MaxItemsPerBatchPath = l.jpOnlyPath(o, at, "MaxItemsPerBatchPath", ql)
	b.MaxInputBytesPerBatch, b.MaxInputBytesPerBatchExpr = l.countField(o, at, "MaxInputBytesPerBatch", ql, 1, maxBatchInputBytes)
	b.MaxInputBytesPerBatchPath = l.jpOnlyPath(o, at, "MaxInputBytesPerBatchPath", ql)
	if ql == JSONPath {
		l.exclusive(o, at, "MaxItemsPerBatch", "MaxItemsPerBatchPath")
		l.exclusive(o, at, "MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath")
	}
	if b.MaxItemsPerBatchExpr != "" {
		b.MaxItemsPerBatchQuery = distQuery(b.MaxItemsPerBatchExpr, "MaxItemsPerBatch")
	}
	if b.MaxInputBytesPerBatchExpr != "" {
		b.MaxInputBytesPerBatchQuery = distQuery(b.MaxInputBytesPerBatchExpr, "MaxInputBytesPerBatch")
	}
	if v, ok := o.Get("BatchInput"); ok {
		if ql == JSONata {
			b.BatchInputQuery = distQuery(v, "BatchInput")
			b.BatchInput = &Template{raw: v, root: tnode{kind: nodeLiteral, lit: v}}
			b.BatchInput.root.measure()
		} else {
			b.BatchInput = l.template(o, at, "BatchInput", true)
			l.noDollar(v, loc(at, "BatchInput"))
		}
	}
	return b
}

var resultWriterFields = map[string]lang{
	"Resource": langBoth, "WriterConfig": langBoth, "Parameters": langJP, "Arguments": langJA,
}

// resultWriter loads a Map's ResultWriter. Valid shapes: WriterConfig
// alone, Resource with Parameters (Arguments), or all three.
func (l *loader) resultWriter(o *value.Object, at string, ql QueryLanguage) *ResultWriterDef {
	l.members(o, at, resultWriterFields, ql)
	w := &ResultWriterDef{}
	payloadKey := "Parameters"
	if ql == JSONata {
		payloadKey = "Arguments"
	}
	hasRes, hasPayload := o.Has("Resource"), o.Has(payloadKey)
	switch {
	case !hasRes && !hasPayload && !o.Has("WriterConfig"):
		l.schema(at, "At least one of these fields is required: [Resource, WriterConfig]")
	case hasRes && !hasPayload:
		l.schema(at, "These fields are required: ["+payloadKey+"]")
	case !hasRes && hasPayload:
		l.schema(at, "These fields are required: [Resource]")
	}
	if v, ok := o.Get("Resource"); ok {
		s, isStr := v.(string)
		switch {
		case !isStr:
			l.schema(loc(at, "Resource"), "Expected value of type [STRING]")
		case s3Action(s) != "putObject":
			l.schema(loc(at, "Resource"), "The resource provided "+s+resourceNotRecognized)
		default:
			w.Resource = s
		}
	}
	w.Parameters, w.Arguments, w.HasArguments = l.payload(o, at, ql)
	if w.HasArguments {
		w.Args = distQuery(w.Arguments, "Arguments")
	}
	if w.Parameters != nil {
		l.stringMembers(w.Parameters.raw, loc(at, "Parameters"), "Bucket", "Prefix")
	}
	if w.HasArguments {
		l.stringMembers(w.Arguments, loc(at, "Arguments"), "Bucket", "Prefix")
	}
	cv, ok := o.Get("WriterConfig")
	if !ok {
		return w
	}
	cat := loc(at, "WriterConfig")
	c, isObj := cv.(*value.Object)
	if !isObj {
		l.schema(cat, "Expected value of type [OBJECT]")
		return w
	}
	l.members(c, cat, map[string]lang{"OutputType": langBoth, "Transformation": langBoth}, ql)
	// AWS reports one problem for the whole WriterConfig.
	var missing []string
	for _, k := range []string{"OutputType", "Transformation"} {
		if !c.Has(k) {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		l.schema(cat, "These fields are required: ["+strings.Join(missing, ", ")+"]")
		return w
	}
	ot, _ := c.Get("OutputType")
	tr, _ := c.Get("Transformation")
	ots, _ := ot.(string)
	trs, _ := tr.(string)
	switch {
	case !inEnum(trs, writerTransforms):
		l.schema(cat, "The field 'Transformation' should have one of these values: "+enumText(writerTransforms))
	case !inEnum(ots, outputTypes):
		l.schema(cat, "The field 'OutputType' should have one of these values: "+enumText(outputTypes))
	default:
		w.OutputType, w.Transformation = ots, trs
	}
	return w
}
