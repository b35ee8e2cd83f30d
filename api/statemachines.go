package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/stepwell/stepwell/api/internal/awsapi"
	"github.com/stepwell/stepwell/arn"
	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/internal/uuid"
	"github.com/stepwell/stepwell/store"
)

const (
	typeStandard = "STANDARD"
	typeExpress  = "EXPRESS"
)

var (
	defaultLogging = json.RawMessage(`{"level":"OFF","includeExecutionData":false}`)
	defaultTracing = json.RawMessage(`{"enabled":false}`)
)

// checkLogging validates a LoggingConfiguration the model's constraints
// allow and returns its stored form.
func checkLogging(l *awsapi.LoggingConfiguration) (json.RawMessage, error) {
	if l == nil {
		return nil, nil
	}
	level := "OFF"
	if l.Level != nil {
		level = *l.Level
	}
	var dests []json.RawMessage
	if len(l.Destinations) > 0 && !bytes.Equal(l.Destinations, []byte("null")) {
		if err := json.Unmarshal(l.Destinations, &dests); err != nil {
			return nil, awsapi.SerializationException("Unexpected value for member 'loggingConfiguration.destinations': expected a list")
		}
	}
	if len(dests) > 1 {
		return nil, awsapi.InvalidLoggingConfiguration("Invalid Logging Configuration: Must specify exactly one Log Destination.")
	}
	if level != "OFF" && len(dests) == 0 {
		return nil, awsapi.InvalidLoggingConfiguration("Invalid Logging Configuration: Must specify exactly one Log Destination.")
	}
	incl := l.IncludeExecutionData != nil && *l.IncludeExecutionData
	out := struct {
		Level                string            `json:"level"`
		IncludeExecutionData bool              `json:"includeExecutionData"`
		Destinations         []json.RawMessage `json:"destinations,omitempty"`
	}{level, incl, dests}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, awsapi.InvalidLoggingConfiguration(fmt.Sprintf("Invalid Logging Configuration: %v", err))
	}
	return b, nil
}

func tracingJSON(t *awsapi.TracingConfiguration) json.RawMessage {
	if t == nil {
		return nil
	}
	if t.Enabled != nil && *t.Enabled {
		return json.RawMessage(`{"enabled":true}`)
	}
	return defaultTracing
}

// checkEncryption checks what the model's constraints do not: customer
// managed keys and the data key reuse period.
func checkEncryption(e *awsapi.EncryptionConfiguration) error {
	if e == nil {
		return nil
	}
	if e.Type != nil && *e.Type == "CUSTOMER_MANAGED_KMS_KEY" {
		if e.KmsKeyID == nil {
			return awsapi.InvalidEncryptionConfiguration("Invalid Encryption Configuration: kmsKeyId is required for CUSTOMER_MANAGED_KMS_KEY.")
		}
		return awsapi.InvalidEncryptionConfiguration("Invalid Encryption Configuration: customer managed KMS keys are not supported by Stepwell.")
	}
	if p := e.KmsDataKeyReusePeriodSeconds; p != nil && (*p < 60 || *p > 900) {
		return awsapi.InvalidEncryptionConfiguration("Invalid Encryption Configuration: kmsDataKeyReusePeriodSeconds must be between 60 and 900.")
	}
	return nil
}

// checkRoleArn validates a role ARN's form (any IAM-style ARN is accepted).
func checkRoleArn(role string) error {
	if !arnLike(role) {
		return errInvalidArn("Invalid ARN prefix: " + role)
	}
	return nil
}

func arnLike(s string) bool {
	if len(s) < 4 || s[:4] != "arn:" {
		return false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			n++
		}
	}
	return n >= 5
}

// loadDefinition validates and compiles a definition, answering
// InvalidDefinition with AWS's message when it is invalid.
func loadDefinition(def, typ string) (*asl.StateMachine, error) {
	sm, err := asl.Load([]byte(def), asl.Options{Express: typ == typeExpress})
	if err != nil {
		return nil, definitionErr(err)
	}
	return sm, nil
}

// machineARN parses a state machine ARN argument. Version and alias
// ARNs are accepted when allowQualified; labelled (Distributed Map) ARNs
// never name a stored machine.
func machineARN(s string) (arn.ARN, error) {
	a, err := arn.Parse(s)
	if err != nil {
		return a, errInvalidArn(err.Error())
	}
	if a.Type != arn.StateMachine {
		return a, errInvalidArn("Resource type not valid in this context: " + string(a.Type))
	}
	return a, nil
}

type createStateMachineOutput struct {
	StateMachineArn        string `json:"stateMachineArn"`
	CreationDate           epoch  `json:"creationDate"`
	StateMachineVersionArn string `json:"stateMachineVersionArn,omitempty"`
}

func (s *Server) createStateMachine(ctx context.Context, body []byte) (any, error) {
	var in awsapi.CreateStateMachineInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	logging, err := checkLogging(in.LoggingConfiguration)
	if err != nil {
		return nil, err
	}
	if err := checkEncryption(in.EncryptionConfiguration); err != nil {
		return nil, err
	}
	if len(in.Tags) > 50 {
		return nil, awsapi.TooManyTags("Too many tags: at most 50 tags are allowed.")
	}
	publish := in.Publish != nil && *in.Publish
	if in.VersionDescription != nil && !publish {
		return nil, errValidation("Version description can only be set when publish is true")
	}
	if !arn.ValidName(*in.Name) {
		return nil, errInvalidName(*in.Name)
	}
	if err := checkRoleArn(*in.RoleArn); err != nil {
		return nil, err
	}
	typ := typeStandard
	if in.Type != nil {
		typ = *in.Type
	}
	compiled, err := loadDefinition(*in.Definition, typ)
	if err != nil {
		return nil, err
	}
	if logging == nil {
		logging = defaultLogging
	}
	tracing := tracingJSON(in.TracingConfiguration)
	if tracing == nil {
		tracing = defaultTracing
	}
	var tags json.RawMessage
	if len(in.Tags) > 0 {
		tags, _ = json.Marshal(in.Tags)
	}
	smArn := s.scope.StateMachineARN(*in.Name)
	sm := &store.StateMachine{
		ARN: smArn, Name: *in.Name, Type: typ, CreationDate: s.now(), Tags: tags,
		Revision: store.Revision{RevisionID: uuid.New(), Definition: *in.Definition, RoleARN: *in.RoleArn,
			Logging: logging, Tracing: tracing},
	}
	err = s.st.CreateStateMachine(ctx, sm)
	if errors.Is(err, store.ErrAlreadyExists) {
		old, gerr := s.st.GetStateMachine(ctx, smArn)
		if gerr != nil {
			if errors.Is(gerr, store.ErrNotFound) {
				return nil, errStateMachineAlreadyExists(smArn)
			}
			return nil, gerr
		}
		// Idempotent on everything but roleArn and tags.
		if old.Definition == sm.Definition && old.Type == sm.Type && jsonSame(old.Logging, sm.Logging) && jsonSame(old.Tracing, sm.Tracing) {
			out := createStateMachineOutput{StateMachineArn: smArn, CreationDate: epoch(old.CreationDate)}
			if publish {
				v, err := s.publish(ctx, old, deref(in.VersionDescription))
				if err != nil {
					return nil, err
				}
				out.StateMachineVersionArn = v.ARN
			}
			return out, nil
		}
		return nil, errStateMachineAlreadyExists(smArn)
	}
	if err != nil {
		return nil, err
	}
	s.exec.Cache(smArn, sm.RevisionID, compiled)
	out := createStateMachineOutput{StateMachineArn: smArn, CreationDate: epoch(sm.CreationDate)}
	if err := s.initTags(ctx, smArn, in.Tags); err != nil {
		return nil, err
	}
	if publish {
		v, err := s.publish(ctx, sm, deref(in.VersionDescription))
		if err != nil {
			return nil, err
		}
		out.StateMachineVersionArn = v.ARN
	}
	return out, nil
}

func jsonSame(a, b json.RawMessage) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

type describeStateMachineOutput struct {
	StateMachineArn      string          `json:"stateMachineArn"`
	Name                 string          `json:"name"`
	Status               string          `json:"status"`
	Definition           string          `json:"definition"`
	RoleArn              string          `json:"roleArn"`
	Type                 string          `json:"type"`
	CreationDate         epoch           `json:"creationDate"`
	LoggingConfiguration json.RawMessage `json:"loggingConfiguration,omitempty"`
	TracingConfiguration json.RawMessage `json:"tracingConfiguration,omitempty"`
	RevisionID           string          `json:"revisionId,omitempty"`
	Description          *string         `json:"description,omitempty"`
	VariableReferences   varRefs         `json:"variableReferences,omitempty"`
}

// varRefs is a definition's variableReferences: for each state that reads
// workflow variables, their names (asl.StateMachine.VariableReferences).
type varRefs map[string][]string

// variableReferences returns the variableReferences of revision
// revisionID of machine machineARN, whose text is definition, nil when
// none (or when the stored definition no longer loads). The revision is
// compiled once (executions.Service.Compiled).
func (s *Server) variableReferences(machineARN, revisionID, definition string, express bool) varRefs {
	sm, err := s.exec.Compiled(machineARN, revisionID, definition, express)
	if err != nil {
		return nil
	}
	return sm.VariableReferences()
}

// getMachine returns the stored machine an ARN argument names.
func (s *Server) getMachine(ctx context.Context, arnStr string) (*store.StateMachine, error) {
	a, err := machineARN(arnStr)
	if err != nil {
		return nil, err
	}
	return s.getParsedMachine(ctx, a, arnStr)
}

// getParsedMachine is getMachine of an ARN argument already parsed (a).
func (s *Server) getParsedMachine(ctx context.Context, a arn.ARN, arnStr string) (*store.StateMachine, error) {
	if a.Qualifier != "" || a.Label != "" {
		// Versions, aliases and Map labels are not stored (yet).
		return nil, errStateMachineDoesNotExist(arnStr)
	}
	// Without a qualifier, an argument without '/' (no empty label) is in
	// canonical form already: a.String() would render it again.
	key := arnStr
	if strings.IndexByte(arnStr, '/') >= 0 {
		key = a.String()
	}
	sm, err := s.st.GetStateMachine(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errStateMachineDoesNotExist(arnStr)
	}
	return sm, err
}

func (s *Server) describeStateMachine(ctx context.Context, body []byte) (any, error) {
	var in awsapi.DescribeStateMachineInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	if a, err := machineARN(*in.StateMachineArn); err == nil && a.Label == "" {
		if _, ok := a.Version(); ok {
			return s.describeVersion(ctx, *in.StateMachineArn, deref(in.IncludedData) == "METADATA_ONLY")
		}
	}
	sm, err := s.getMachine(ctx, *in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	out := describeStateMachineOutput{
		StateMachineArn: sm.ARN, Name: sm.Name, Status: "ACTIVE", Definition: sm.Definition, RoleArn: sm.RoleARN,
		Type: sm.Type, CreationDate: epoch(sm.CreationDate), LoggingConfiguration: orDefault(sm.Logging, defaultLogging),
		TracingConfiguration: orDefault(sm.Tracing, defaultTracing),
	}
	if !sm.UpdateDate.IsZero() {
		out.RevisionID = sm.RevisionID
	}
	if deref(in.IncludedData) == "METADATA_ONLY" {
		out.Definition = "{}"
	} else {
		out.VariableReferences = s.variableReferences(sm.ARN, sm.RevisionID, sm.Definition, sm.Type == typeExpress)
	}
	return out, nil
}

func orDefault(v, def json.RawMessage) json.RawMessage {
	if len(v) == 0 {
		return def
	}
	return v
}

type updateStateMachineOutput struct {
	UpdateDate             epoch  `json:"updateDate"`
	RevisionID             string `json:"revisionId,omitempty"`
	StateMachineVersionArn string `json:"stateMachineVersionArn,omitempty"`
}

func (s *Server) updateStateMachine(ctx context.Context, body []byte) (any, error) {
	var in awsapi.UpdateStateMachineInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	logging, lerr := checkLogging(in.LoggingConfiguration)
	eerr := checkEncryption(in.EncryptionConfiguration)
	a, err := machineARN(*in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	if a.Label != "" {
		return nil, awsapi.ValidationException("Updating a labelled state machine ARN is not supported")
	}
	if lerr != nil {
		return nil, lerr
	}
	if eerr != nil {
		return nil, eerr
	}
	if in.Definition == nil && in.RoleArn == nil && in.LoggingConfiguration == nil && in.TracingConfiguration == nil && in.EncryptionConfiguration == nil {
		return nil, awsapi.MissingRequiredParameter("Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified")
	}
	publish := in.Publish != nil && *in.Publish
	if in.VersionDescription != nil && !publish {
		return nil, errValidation("Version description can only be set when publish is true")
	}
	if in.RoleArn != nil {
		if err := checkRoleArn(*in.RoleArn); err != nil {
			return nil, err
		}
	}
	sm, err := s.getMachine(ctx, *in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	rev := sm.Revision
	var compiled *asl.StateMachine
	if in.Definition != nil {
		if compiled, err = loadDefinition(*in.Definition, sm.Type); err != nil {
			return nil, err
		}
		rev.Definition = *in.Definition
	}
	if in.RoleArn != nil {
		rev.RoleARN = *in.RoleArn
	}
	if logging != nil {
		rev.Logging = logging
	}
	if t := tracingJSON(in.TracingConfiguration); t != nil {
		rev.Tracing = t
	}
	rev.RevisionID = uuid.New()
	rev.UpdateDate = s.now()
	if err := s.st.UpdateStateMachine(ctx, sm.ARN, sm.RevisionID, &rev); err != nil {
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil, errStateMachineDoesNotExist(*in.StateMachineArn)
		case errors.Is(err, store.ErrConflict):
			return nil, awsapi.ConflictException("The state machine was updated concurrently; retry the update.")
		}
		return nil, err
	}
	if compiled != nil {
		s.exec.Cache(sm.ARN, rev.RevisionID, compiled)
	}
	out := updateStateMachineOutput{UpdateDate: epoch(rev.UpdateDate), RevisionID: rev.RevisionID}
	if publish {
		sm.Revision = rev
		v, err := s.publish(ctx, sm, deref(in.VersionDescription))
		if err != nil {
			return nil, err
		}
		out.StateMachineVersionArn = v.ARN
	}
	return out, nil
}

func (s *Server) deleteStateMachine(ctx context.Context, body []byte) (any, error) {
	var in awsapi.DeleteStateMachineInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	a, err := machineARN(*in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	if a.Label != "" {
		return nil, awsapi.ValidationException("Deleting a labelled state machine ARN is not supported")
	}
	if a.Qualifier != "" {
		// Versions and aliases have their own delete operations.
		return nil, errInvalidArn("Invalid ARN prefix: " + *in.StateMachineArn)
	}
	// Deleting a machine that does not exist succeeds, as on AWS.
	if err := s.st.DeleteStateMachine(ctx, a.String()); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	s.exec.Forget(a.String())
	if err := s.dropMachineExtras(ctx, a.String()); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

type stateMachineListItem struct {
	StateMachineArn string `json:"stateMachineArn"`
	Name            string `json:"name"`
	Type            string `json:"type"`
	CreationDate    epoch  `json:"creationDate"`
}

type listStateMachinesOutput struct {
	StateMachines []stateMachineListItem `json:"stateMachines"`
	NextToken     string                 `json:"nextToken,omitempty"`
}

func (s *Server) listStateMachines(ctx context.Context, body []byte) (any, error) {
	var in awsapi.ListStateMachinesInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	list := listing("ListStateMachines")
	page, err := s.page(list, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	items, next, err := s.st.ListStateMachines(ctx, page)
	if err != nil {
		return nil, storeErr(err)
	}
	out := listStateMachinesOutput{StateMachines: make([]stateMachineListItem, 0, len(items)), NextToken: s.nextToken(list, next)}
	for _, sm := range items {
		out.StateMachines = append(out.StateMachines, stateMachineListItem{sm.ARN, sm.Name, sm.Type, epoch(sm.CreationDate)})
	}
	return out, nil
}

type diagnostic struct {
	Severity string `json:"severity"`
	Code     string `json:"code"`
	Message  string `json:"message"`
	Location string `json:"location,omitempty"`
}

type validateOutput struct {
	Result      string       `json:"result"`
	Diagnostics []diagnostic `json:"diagnostics"`
	Truncated   bool         `json:"truncated"`
}

func (s *Server) validateDefinition(ctx context.Context, body []byte) (any, error) {
	var in awsapi.ValidateStateMachineDefinitionInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	limit := 100
	if in.MaxResults != nil && *in.MaxResults > 0 {
		limit = int(*in.MaxResults)
	}
	withWarnings := deref(in.Severity) == "WARNING"
	out := validateOutput{Result: "OK", Diagnostics: []diagnostic{}}
	for _, d := range asl.Validate([]byte(*in.Definition), asl.Options{Express: deref(in.Type) == typeExpress}) {
		if d.Severity == asl.SeverityError {
			out.Result = "FAIL"
		} else if !withWarnings {
			continue
		}
		if len(out.Diagnostics) == limit {
			out.Truncated = true
			continue
		}
		out.Diagnostics = append(out.Diagnostics, diagnostic{string(d.Severity), d.Code, d.Message, d.Location})
	}
	return out, nil
}
