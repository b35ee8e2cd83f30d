package asl

import (
	"math"
	"strings"
	"unicode"

	"github.com/stepwell/stepwell/value"
)

// state loads one state named name at location at; scopeQL is the query
// language of the enclosing machine.
func (l *loader) state(name string, o *value.Object, at string, scopeQL QueryLanguage) *State {
	st := &State{Name: name, QueryLanguage: scopeQL, Raw: o}
	tv, ok := o.Get("Type")
	if !ok {
		l.schema(at, "These fields are required: [Type]")
		return st
	}
	ts, _ := tv.(string)
	fields, known := stateFields[StateType(ts)]
	if !known {
		l.schema(loc(at, "Type"), "The field 'Type' should have one of these values: "+stateTypesText)
		return st
	}
	st.Type = StateType(ts)
	ql, hasQL, qlProblem := queryLanguageOf(o)
	downgraded := false
	if hasQL {
		st.QueryLanguage = ql
		if l.topQL == JSONata && ql == JSONPath {
			// AWS reports only this for the state, not its JSONata fields.
			l.schema(at, "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine")
			downgraded = true
		}
	}
	ja := st.QueryLanguage == JSONata
	for _, k := range o.Keys() {
		lg, ok := fields[k]
		switch {
		case !ok:
			l.schema(at, notSupported(k))
		case downgraded:
		case lg == langJP && ja:
			l.schema(at, onlyFor(JSONata, k))
		case lg == langJA && !ja:
			l.schema(at, onlyFor(JSONPath, k))
		}
	}
	if qlProblem != "" {
		l.schema(loc(at, "QueryLanguage"), qlProblem)
	}
	st.Comment = l.str(o, at, "Comment")

	// Transitions.
	switch st.Type {
	case TypeChoice, TypeSucceed, TypeFail:
	default:
		st.Next = l.str(o, at, "Next")
		nextV, hasNext := o.Get("Next")
		if hasNext && st.Next == "" {
			if _, isStr := nextV.(string); isStr {
				l.schema(loc(at, "Next"), "The field 'Next' must not be empty")
			}
		}
		if ev, ok := o.Get("End"); ok {
			b, isBool := ev.(bool)
			if !isBool {
				l.schema(loc(at, "End"), "Expected value of type [BOOLEAN]")
			}
			st.End = b
		}
		switch {
		case hasNext && st.End:
			l.schema(at, "Only one of these fields is allowed: [Next, End]")
		case !hasNext && !st.End:
			l.schema(at, "One of these fields is required: [Next, End]")
		}
	}

	// Data flow fields present on most types.
	if _, ok := fields["InputPath"]; ok {
		st.InputPath = l.pathField(o, at, "InputPath", false)
		st.OutputPath = l.pathField(o, at, "OutputPath", false)
	}
	if _, ok := fields["ResultPath"]; ok {
		st.ResultPath = l.pathField(o, at, "ResultPath", true)
	}
	if _, ok := fields["Parameters"]; ok {
		st.Parameters = l.template(o, at, "Parameters", false)
	}
	if _, ok := fields["ResultSelector"]; ok {
		st.ResultSelector = l.template(o, at, "ResultSelector", true)
	}
	if _, ok := fields["Assign"]; ok {
		reads := 0
		if st.Type == TypeTask || st.Type == TypeParallel || st.Type == TypeMap {
			reads = readsResult
		}
		st.Assign = l.assign(o, at, st.QueryLanguage, reads)
	}
	if ja && !downgraded {
		// Arguments is an object or a JSONata string; Items an array, an
		// object (iterated as key/value pairs) or a JSONata string.
		args, hasArgs := o.Get("Arguments")
		if _, isObj := args.(*value.Object); hasArgs && !isObj && !isJSONata(args) {
			l.schema(loc(at, "Arguments"), "Expected value of type [OBJECT]")
		}
		items, hasItems := o.Get("Items")
		switch items.(type) {
		case []any, *value.Object:
		default:
			if hasItems && st.Type == TypeMap && !isJSONata(items) {
				l.schema(loc(at, "Items"), "Expected value of type [ARRAY]")
			}
		}
		l.queries(st, o, at)
	}

	switch st.Type {
	case TypePass:
		st.Result, st.HasResult = o.Get("Result")
	case TypeTask:
		l.task(st, o, at)
	case TypeChoice:
		l.choiceState(st, o, at)
	case TypeWait:
		l.wait(st, o, at)
	case TypeFail:
		l.fail(st, o, at)
	case TypeParallel:
		l.parallel(st, o, at)
	case TypeMap:
		l.mapState(st, o, at)
	}
	if _, ok := fields["Retry"]; ok {
		l.retry(st, o, at)
		l.catch(st, o, at)
	}
	l.lintState(st, o, at)
	return st
}

// seconds reads TimeoutSeconds-like fields: a positive integer, or a
// JSONata string in JSONata states.
func (l *loader) seconds(o *value.Object, at, key string, ja bool, min int64) *int64 {
	v, ok := o.Get(key)
	if !ok {
		return nil
	}
	if ja && isJSONata(v) {
		return nil
	}
	return l.intField(o, at, key, min, 99999999)
}

// inSeconds reports whether a TimeoutSeconds-like value is present and in
// its range (out-of-range values are reported on their own).
func inSeconds(n *int64) bool { return n != nil && *n >= 1 && *n <= 99999999 }

func (l *loader) task(st *State, o *value.Object, at string) {
	ja := st.QueryLanguage == JSONata
	l.required(o, at, "Resource")
	st.Resource = l.str(o, at, "Resource")
	if st.Resource != "" {
		l.resource(st.Resource, loc(at, "Resource"))
	}
	st.TimeoutSeconds = l.seconds(o, at, "TimeoutSeconds", ja, 1)
	st.HeartbeatSeconds = l.seconds(o, at, "HeartbeatSeconds", ja, 1)
	st.TimeoutSecondsPath = l.refPath(o, at, "TimeoutSecondsPath")
	st.HeartbeatSecondsPath = l.refPath(o, at, "HeartbeatSecondsPath")
	if !ja {
		// In JSONata states the Path variants are reported as such.
		l.exclusive(o, at, "TimeoutSeconds", "TimeoutSecondsPath")
		l.exclusive(o, at, "HeartbeatSeconds", "HeartbeatSecondsPath")
	}
	if inSeconds(st.TimeoutSeconds) && inSeconds(st.HeartbeatSeconds) && *st.HeartbeatSeconds >= *st.TimeoutSeconds {
		l.schema(loc(at, "HeartbeatSeconds"), "The value of 'HeartbeatSeconds' must be less than the value of 'TimeoutSeconds'")
	}
	if cv, ok := o.Get("Credentials"); ok {
		cat := loc(at, "Credentials")
		co, isObj := cv.(*value.Object)
		switch {
		case !isObj:
			l.schema(cat, "Expected value of type [OBJECT]")
		case !co.Has("RoleArn") && (ja || !co.Has("RoleArn.$")):
			l.schema(cat, "The field 'RoleArn' is required but was missing")
		}
		if isObj {
			// RoleArn is the only member: a literal string, a JSONata
			// string in JSONata states, or "RoleArn.$" (a path, a
			// variable or an intrinsic) in JSONPath states.
			l.unknownFields(co, cat, func(k string) bool { return k == "RoleArn" || k == "RoleArn.$" && !ja })
			if rv, ok := co.Get("RoleArn"); ok {
				if _, isStr := rv.(string); !isStr {
					l.schema(loc(cat, "RoleArn"), "Expected value of type [STRING]")
				}
			}
		}
		if !ja {
			st.Credentials = compileTemplate(cv, &l.reporter, cat)
		}
	}
}

// resource checks a Task's Resource, including the Express restrictions.
func (l *loader) resource(r, at string) {
	if !strings.HasPrefix(r, "arn:") {
		l.schema(at, "The resource provided "+r+" is not recognized. The value is not a valid resource ARN, or the resource is not available in this region.")
		return
	}
	parts := strings.SplitN(r, ":", 6)
	if len(parts) < 6 {
		l.schema(at, "The resource provided "+r+" is not recognized. The value is not a valid resource ARN, or the resource is not available in this region.")
		return
	}
	service, rest := parts[2], parts[5]
	if service == "states" && parts[3] == "" && parts[4] == "" {
		// Service integration: arn:aws:states:::<service>:<action>[.<pattern>]
		if strings.HasPrefix(rest, "dynamodb:") {
			action := strings.TrimPrefix(rest, "dynamodb:")
			switch action {
			case "getItem", "putItem", "deleteItem", "updateItem":
			default:
				l.schema(at, "The resource provided "+r+" is not recognized. The value is not a valid resource ARN, or the resource is not available in this region.")
			}
		}
		if l.opts.Express {
			switch {
			case strings.HasSuffix(rest, ".waitForTaskToken"):
				l.schema(at, "Express state machine does not support '.waitForTaskToken' service integration ")
			case strings.HasSuffix(rest, ".sync") || strings.Contains(rest, ".sync:"):
				l.schema(at, "Express state machine does not support '.sync' service integration ")
			}
		}
		return
	}
	if service == "states" && strings.HasPrefix(rest, "activity:") && l.opts.Express {
		l.schema(at, "Express state machine does not support Activity ARN")
	}
}

func (l *loader) wait(st *State, o *value.Object, at string) {
	ja := st.QueryLanguage == JSONata
	n := 0
	for _, k := range []string{"Seconds", "Timestamp", "SecondsPath", "TimestampPath"} {
		if o.Has(k) {
			n++
		}
	}
	if n != 1 {
		l.schema(at, "Exactly one of these fields is required: [Seconds, Timestamp, SecondsPath, TimestampPath]")
	}
	if v, ok := o.Get("Seconds"); ok && !(ja && isJSONata(v)) {
		st.Seconds = l.intField(o, at, "Seconds", 0, 99999999)
	}
	if v, ok := o.Get("Timestamp"); ok && !(ja && isJSONata(v)) {
		s, isStr := v.(string)
		if !isStr {
			l.schema(loc(at, "Timestamp"), "Expected value of type [STRING]")
		} else if t, ok := parseTimestamp(s); ok {
			st.Timestamp = &t
			st.TimestampText = s
		} else {
			l.schema(loc(at, "Timestamp"), "String does not match RFC3339 timestamp")
		}
	}
	st.SecondsPath = l.refPath(o, at, "SecondsPath")
	st.TimestampPath = l.refPath(o, at, "TimestampPath")
}

func (l *loader) fail(st *State, o *value.Object, at string) {
	ja := st.QueryLanguage == JSONata
	if v, ok := o.Get("Error"); ok {
		st.HasError = true
		if s, isStr := v.(string); isStr {
			st.Error = s
		} else {
			l.schema(loc(at, "Error"), "Expected value of type [STRING]")
		}
	}
	if v, ok := o.Get("Cause"); ok {
		st.HasCause = true
		if s, isStr := v.(string); isStr {
			st.Cause = s
		} else {
			l.schema(loc(at, "Cause"), "Expected value of type [STRING]")
		}
	}
	_ = ja
	st.ErrorPath = l.stringExpr(o, at, "ErrorPath")
	st.CausePath = l.stringExpr(o, at, "CausePath")
	if o.Has("Error") && o.Has("ErrorPath") {
		l.schema(loc(at, "Error"), "Only one of these fields is allowed: [Error, ErrorPath]")
	}
	if o.Has("Cause") && o.Has("CausePath") {
		l.schema(loc(at, "Cause"), "Only one of these fields is allowed: [Cause, CausePath]")
	}
}

// stringIntrinsics are the intrinsic functions that return a string, the
// only ones Fail's ErrorPath and CausePath accept.
var stringIntrinsics = map[string]bool{
	"States.Format": true, "States.JsonToString": true, "States.ArrayGetItem": true,
	"States.Base64Encode": true, "States.Base64Decode": true, "States.Hash": true, "States.UUID": true,
}

// stringExpr compiles ErrorPath/CausePath: a reference path or a
// string-returning intrinsic call.
func (l *loader) stringExpr(o *value.Object, at, key string) *Expr {
	v, ok := o.Get(key)
	if !ok {
		return nil
	}
	fat := loc(at, key)
	s, isStr := v.(string)
	if !isStr {
		l.schema(fat, "Expected value of type [STRING]")
		return nil
	}
	e, err := compileExpr(s)
	if err != nil || (e.Path != nil && !e.Path.IsDefinite()) || (e.Call != nil && !stringIntrinsics[e.Call.Name()]) {
		l.schema(fat, "The value for the field '"+key+"' must be a valid JSONPath or a valid intrinsic function call")
		return nil
	}
	e.field = key
	return e
}

func (l *loader) parallel(st *State, o *value.Object, at string) {
	if !l.required(o, at, "Branches") {
		return
	}
	bv, _ := o.Get("Branches")
	bat := loc(at, "Branches")
	arr, ok := l.nonEmptyArray(bv, bat)
	if !ok {
		return
	}
	for i, b := range arr {
		iat := locIdx(bat, i)
		bo, ok := b.(*value.Object)
		if !ok {
			l.schema(iat, "Expected value of type [OBJECT]")
			continue
		}
		st.Branches = append(st.Branches, l.machine(bo, iat, scopeBranch))
	}
}

func (l *loader) mapState(st *State, o *value.Object, at string) {
	ja := st.QueryLanguage == JSONata
	key := "ItemProcessor"
	if !o.Has(key) && o.Has("Iterator") {
		key = "Iterator"
	}
	if o.Has("ItemProcessor") && o.Has("Iterator") {
		l.schema(loc(at, "ItemProcessor"), "Only one of these fields is allowed: [ItemProcessor, Iterator]")
	}
	st.ProcessorMode = "INLINE"
	if pv, ok := o.Get(key); !ok {
		l.schema(at, "These fields are required: [ItemProcessor]")
	} else if po, ok := pv.(*value.Object); !ok {
		l.schema(loc(at, key), "Expected value of type [OBJECT]")
	} else {
		pat := loc(at, key)
		// The children of a Distributed Map with ExecutionType EXPRESS are
		// Express workflows: their tasks have the Express restrictions.
		express := l.opts.Express
		if cv, ok := po.Get("ProcessorConfig"); ok {
			if co, ok := cv.(*value.Object); ok {
				m, _ := co.Get("Mode")
				e, _ := co.Get("ExecutionType")
				l.opts.Express = express || (m == "DISTRIBUTED" && e == "EXPRESS")
			}
		}
		st.ItemProcessor = l.machine(po, pat, scopeProcessor)
		l.opts.Express = express
		if cv, ok := po.Get("ProcessorConfig"); ok {
			cat := loc(pat, "ProcessorConfig")
			if co, ok := cv.(*value.Object); !ok {
				l.schema(cat, "Expected value of type [OBJECT]")
			} else {
				l.unknownFields(co, cat, func(k string) bool { return k == "Mode" || k == "ExecutionType" })
				if m, ok := co.Get("Mode"); ok {
					ms, _ := m.(string)
					if ms != "INLINE" && ms != "DISTRIBUTED" {
						l.schema(loc(cat, "Mode"), oneOf("[INLINE, DISTRIBUTED]"))
					} else {
						st.ProcessorMode = ms
					}
				}
				if e, ok := co.Get("ExecutionType"); ok {
					es, _ := e.(string)
					if es != "STANDARD" && es != "EXPRESS" {
						l.schema(loc(cat, "ExecutionType"), oneOf("[STANDARD, EXPRESS]"))
					} else {
						st.ProcessorExecutionType = es
					}
				}
				if st.ProcessorMode == "DISTRIBUTED" && !co.Has("ExecutionType") {
					l.schema(cat, "These fields are required: [ExecutionType]")
				}
			}
		}
	}
	if st.ProcessorMode == "DISTRIBUTED" && l.opts.Express {
		l.schema(loc(at, key), "Express state machine does not support Distributed Map")
	}
	st.ItemsPath = l.refPath(o, at, "ItemsPath")
	if !ja {
		st.ItemSelector = l.template(o, at, "ItemSelector", true)
	}
	if v, ok := o.Get("MaxConcurrency"); ok && !(ja && isJSONata(v)) {
		if n := l.intField(o, at, "MaxConcurrency", 0, math.MaxInt64); n != nil {
			st.MaxConcurrency = *n
		}
	}
	st.MaxConcurrencyPath = l.refPath(o, at, "MaxConcurrencyPath")
	if v, ok := o.Get("ToleratedFailurePercentage"); ok && !(ja && isJSONata(v)) {
		f, isNum := value.ToFloat(v)
		if !isNum {
			l.schema(loc(at, "ToleratedFailurePercentage"), "Expected value of type [NUMBER]")
		} else if f < 0 || f > 100 {
			l.schema(loc(at, "ToleratedFailurePercentage"), "The value for the field 'ToleratedFailurePercentage' must be between 0 and 100")
		} else {
			st.ToleratedFailurePercentage = &f
		}
	}
	st.ToleratedFailurePercentagePath = l.refPath(o, at, "ToleratedFailurePercentagePath")
	if v, ok := o.Get("ToleratedFailureCount"); ok && !(ja && isJSONata(v)) {
		st.ToleratedFailureCount = l.intField(o, at, "ToleratedFailureCount", 0, math32)
	}
	st.ToleratedFailureCountPath = l.refPath(o, at, "ToleratedFailureCountPath")
	for _, p := range [][2]string{
		{"MaxConcurrency", "MaxConcurrencyPath"},
		{"ToleratedFailurePercentage", "ToleratedFailurePercentagePath"},
		{"ToleratedFailureCount", "ToleratedFailureCountPath"},
		{"Parameters", "ItemSelector"},
	} {
		if !ja {
			// In JSONata states the JSONPath fields are reported as such.
			l.exclusive(o, at, p[0], p[1])
		}
	}
	if st.ItemReader = l.object(o, at, "ItemReader"); st.ItemReader != nil {
		st.Reader = l.itemReader(st.ItemReader, loc(at, "ItemReader"), st.QueryLanguage)
	}
	if st.ItemBatcher = l.object(o, at, "ItemBatcher"); st.ItemBatcher != nil {
		st.Batcher = l.itemBatcher(st.ItemBatcher, loc(at, "ItemBatcher"), st.QueryLanguage)
	}
	if st.ResultWriter = l.object(o, at, "ResultWriter"); st.ResultWriter != nil {
		st.Writer = l.resultWriter(st.ResultWriter, loc(at, "ResultWriter"), st.QueryLanguage)
	}
	if v, ok := o.Get("Label"); ok {
		s, isStr := v.(string)
		lat := loc(at, "Label")
		switch {
		case !isStr:
			l.schema(lat, "Expected value of type [STRING]")
		case !validLabel(s):
			l.add(SeverityError, CodeInvalidLabel, lat, "Invalid label name: "+s)
		case l.labels[s]:
			l.add(SeverityError, CodeDuplicateLabel, lat, "Duplicate label name: "+s)
		}
		l.labels[s] = true
		st.Label = s
	}
}

// math32 is the largest signed 32-bit integer.
const math32 = 2147483647

// object reads an optional object member.
func (l *loader) object(o *value.Object, at, key string) *value.Object {
	v, ok := o.Get(key)
	if !ok {
		return nil
	}
	ob, isObj := v.(*value.Object)
	if !isObj {
		l.schema(loc(at, key), "Expected value of type [OBJECT]")
	}
	return ob
}

// validLabel applies the Distributed Map Label rules: 1 to 40 characters,
// no whitespace, no control characters, none of ? * < > { } [ ] : ; , \ |
// ^ ~ $ # % & ` ".
func validLabel(s string) bool {
	n := 0
	for _, r := range s {
		n++
		switch {
		case r <= 0x20, r >= 0x7f && r <= 0x9f, unicode.IsSpace(r):
			return false
		case strings.ContainsRune("?*<>{}[]:;,\\|^~$#%&`\"", r):
			return false
		}
	}
	return n >= 1 && n <= 40
}

// errorEquals reads and checks a retrier's or catcher's ErrorEquals.
func (l *loader) errorEquals(o *value.Object, at string, last bool) []string {
	v, ok := o.Get("ErrorEquals")
	if !ok {
		return nil
	}
	eat := loc(at, "ErrorEquals")
	arr, isArr := l.nonEmptyArray(v, eat)
	if !isArr {
		return nil
	}
	out := make([]string, 0, len(arr))
	for i, e := range arr {
		s, isStr := e.(string)
		if !isStr {
			l.schema(locIdx(eat, i), "Expected value of type [STRING]")
			continue
		}
		out = append(out, s)
	}
	for _, s := range out {
		if s == "States.ALL" {
			if len(out) > 1 {
				l.schema(eat, "States.ALL must appear alone in ErrorEquals")
			} else if !last {
				l.schema(eat, "States.ALL must be the last element in its array")
			}
			break
		}
	}
	return out
}

func (l *loader) retry(st *State, o *value.Object, at string) {
	v, ok := o.Get("Retry")
	if !ok {
		return
	}
	rat := loc(at, "Retry")
	arr, isArr := v.([]any)
	if !isArr {
		l.schema(rat, "Expected value of type [ARRAY]")
		return
	}
	for i, e := range arr {
		iat := locIdx(rat, i)
		ro, isObj := e.(*value.Object)
		if !isObj {
			l.schema(iat, "Expected value of type [OBJECT]")
			continue
		}
		l.required(ro, iat, "ErrorEquals")
		l.unknownFields(ro, iat, func(k string) bool { return retrierFields[k] })
		r := &Retrier{IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2.0, JitterStrategy: "NONE"}
		r.ErrorEquals = l.errorEquals(ro, iat, i == len(arr)-1)
		if n := l.intField(ro, iat, "IntervalSeconds", 1, 99999999); n != nil {
			r.IntervalSeconds = *n
		}
		if n := l.intField(ro, iat, "MaxAttempts", 0, 99999999); n != nil {
			r.MaxAttempts = *n
		}
		if bv, ok := ro.Get("BackoffRate"); ok {
			f, isNum := value.ToFloat(bv)
			if !isNum {
				l.schema(loc(iat, "BackoffRate"), "Expected value of type [NUMBER]")
			} else if f < 1.0 {
				l.schema(loc(iat, "BackoffRate"), "The value for the field 'BackoffRate' must be greater than or equal to 1.0")
			} else {
				r.BackoffRate = f
			}
		}
		r.MaxDelaySeconds = l.intField(ro, iat, "MaxDelaySeconds", 1, 31622400)
		if jv, ok := ro.Get("JitterStrategy"); ok {
			js, _ := jv.(string)
			if js != "FULL" && js != "NONE" {
				l.schema(loc(iat, "JitterStrategy"), oneOf("[FULL, NONE]"))
			} else {
				r.JitterStrategy = js
			}
		}
		st.Retry = append(st.Retry, r)
	}
}

func (l *loader) catch(st *State, o *value.Object, at string) {
	v, ok := o.Get("Catch")
	if !ok {
		return
	}
	cat := loc(at, "Catch")
	arr, isArr := v.([]any)
	if !isArr {
		l.schema(cat, "Expected value of type [ARRAY]")
		return
	}
	ja := st.QueryLanguage == JSONata
	for i, e := range arr {
		iat := locIdx(cat, i)
		co, isObj := e.(*value.Object)
		if !isObj {
			l.schema(iat, "Expected value of type [OBJECT]")
			continue
		}
		l.required(co, iat, "ErrorEquals", "Next")
		for _, k := range co.Keys() {
			lg, ok := catcherFields[k]
			switch {
			case !ok:
				l.schema(iat, notSupported(k))
			case lg == langJP && ja:
				l.schema(iat, onlyFor(JSONata, k))
			case lg == langJA && !ja:
				l.schema(iat, onlyFor(JSONPath, k))
			}
		}
		c := &Catcher{}
		c.ErrorEquals = l.errorEquals(co, iat, i == len(arr)-1)
		c.Next = l.str(co, iat, "Next")
		c.ResultPath = l.pathField(co, iat, "ResultPath", true)
		c.Assign = l.assign(co, iat, st.QueryLanguage, readsErrorOutput)
		if ja {
			c.Output = l.queryField(co, iat, "Output", readsErrorOutput)
		}
		st.Catch = append(st.Catch, c)
	}
}
