package api

// State machine versions and aliases: PublishStateMachineVersion,
// ListStateMachineVersions, DeleteStateMachineVersion, the five alias
// operations, DescribeStateMachine of a version ARN, and the resolution of
// version and alias ARNs at StartExecution (an alias picks one of its
// versions at random by weight).

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/stepwell/stepwell/api/internal/awsapi"
	"github.com/stepwell/stepwell/arn"
	"github.com/stepwell/stepwell/store"
)

// versions returns the Versions store, or the error every operation that
// needs it answers when the server was configured without one.
func (s *Server) versions() (store.Versions, error) {
	if s.ver == nil {
		return nil, errNoVersions()
	}
	return s.ver, nil
}

func errNoVersions() *Error {
	return awsapi.UnsupportedOperation("Stepwell's configured store does not keep versions, aliases, tags or Map Runs")
}

// publish publishes the current revision of sm (idempotent per revision).
func (s *Server) publish(ctx context.Context, sm *store.StateMachine, description string) (*store.Version, error) {
	vs, err := s.versions()
	if err != nil {
		return nil, err
	}
	v, _, err := vs.PublishVersion(ctx, &store.Version{
		StateMachineARN: sm.ARN, Description: description, CreationDate: s.now(), Revision: sm.Revision,
	})
	if errors.Is(err, store.ErrLimitExceeded) {
		return nil, awsapi.ServiceQuotaExceededException(fmt.Sprintf("Maximum number of versions (%d) reached for the state machine '%s'. Delete unused versions and try again.", store.MaxVersionsPerMachine, sm.ARN))
	}
	return v, err
}

type publishOutput struct {
	CreationDate           epoch  `json:"creationDate"`
	StateMachineVersionArn string `json:"stateMachineVersionArn"`
}

func (s *Server) publishStateMachineVersion(ctx context.Context, body []byte) (any, error) {
	var in awsapi.PublishStateMachineVersionInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	if err := unqualified(*in.StateMachineArn); err != nil {
		return nil, err
	}
	sm, err := s.getMachine(ctx, *in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	if in.RevisionID != nil {
		cur := sm.RevisionID
		if sm.UpdateDate.IsZero() {
			cur = "INITIAL"
		}
		if *in.RevisionID != cur {
			return nil, awsapi.ConflictException(fmt.Sprintf("Failed to publish the State Machine version for revision %s. The current State Machine revision is %s.", *in.RevisionID, cur))
		}
	}
	v, err := s.publish(ctx, sm, deref(in.Description))
	if err != nil {
		return nil, err
	}
	return publishOutput{CreationDate: epoch(v.CreationDate), StateMachineVersionArn: v.ARN}, nil
}

// unlabelledARN parses a state machine, version or alias ARN argument of
// an API that does not take labelled (Distributed Map) ARNs.
func unlabelledARN(s string) (arn.ARN, error) {
	a, err := machineARN(s)
	if err != nil {
		return a, err
	}
	if a.Label != "" {
		return a, &Error{Code: awsapi.CodeValidationException, Message: "This API does not support labeled ARNs.", Reason: "API_DOES_NOT_SUPPORT_LABELED_ARNS"}
	}
	return a, nil
}

// unqualified checks that s is a state machine ARN without version, alias
// or label.
func unqualified(s string) error {
	a, err := unlabelledARN(s)
	if err != nil {
		return err
	}
	if a.Qualifier != "" {
		return errInvalidArn("Resource type not valid in this context: qualified stateMachine")
	}
	return nil
}

// The inputs listStateMachineAliases reads as ListStateMachineVersions'.
var _ = awsapi.ListStateMachineAliasesInput(awsapi.ListStateMachineVersionsInput{})

// decodeListVersions decodes and checks the input of
// ListStateMachineVersions and ListStateMachineAliases, which have the same
// members and constraints.
func decodeListVersions(body []byte) (*awsapi.ListStateMachineVersionsInput, error) {
	var in awsapi.ListStateMachineVersionsInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	return &in, nil
}

type versionListItem struct {
	StateMachineVersionArn string `json:"stateMachineVersionArn"`
	CreationDate           epoch  `json:"creationDate"`
}

type listVersionsOutput struct {
	StateMachineVersions []versionListItem `json:"stateMachineVersions"`
	NextToken            string            `json:"nextToken,omitempty"`
}

func (s *Server) listStateMachineVersions(ctx context.Context, body []byte) (any, error) {
	in, err := decodeListVersions(body)
	if err != nil {
		return nil, err
	}
	if err := unqualified(*in.StateMachineArn); err != nil {
		return nil, err
	}
	vs, err := s.versions()
	if err != nil {
		return nil, err
	}
	list := listing("ListStateMachineVersions", *in.StateMachineArn)
	page, err := s.page(list, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	items, next, err := vs.ListVersions(ctx, *in.StateMachineArn, page)
	if err != nil {
		return nil, storeErr(err)
	}
	out := listVersionsOutput{StateMachineVersions: make([]versionListItem, 0, len(items)), NextToken: s.nextToken(list, next)}
	for _, v := range items {
		out.StateMachineVersions = append(out.StateMachineVersions, versionListItem{v.ARN, epoch(v.CreationDate)})
	}
	return out, nil
}

// versionARN parses an argument that must be a version ARN.
func versionARN(s string) (arn.ARN, error) {
	a, err := unlabelledARN(s)
	if err != nil {
		return a, err
	}
	if _, ok := a.Version(); !ok {
		return a, errInvalidArn("Invalid ARN prefix: " + s)
	}
	return a, nil
}

func (s *Server) deleteStateMachineVersion(ctx context.Context, body []byte) (any, error) {
	var in awsapi.DeleteStateMachineVersionInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	if _, err := versionARN(*in.StateMachineVersionArn); err != nil {
		return nil, err
	}
	vs, err := s.versions()
	if err != nil {
		return nil, err
	}
	err = vs.DeleteVersion(ctx, *in.StateMachineVersionArn)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return struct{}{}, nil // deleting a missing version succeeds
	case errors.Is(err, store.ErrConflict):
		v, _ := vs.GetVersion(ctx, *in.StateMachineVersionArn)
		var names []string
		if v != nil {
			aliases, _, _ := vs.ListAliases(ctx, v.StateMachineARN, v.ARN, store.Page{Limit: store.MaxAliasesPerMachine})
			for _, a := range aliases {
				names = append(names, a.ARN)
			}
		}
		return nil, awsapi.ConflictException("Version to be deleted must not be referenced by an alias. Current list of aliases referencing this version: [" + strings.Join(names, ", ") + "]")
	case err != nil:
		return nil, err
	}
	return struct{}{}, nil
}

// describeVersion answers DescribeStateMachine for a version ARN.
func (s *Server) describeVersion(ctx context.Context, arnStr string, metadataOnly bool) (any, error) {
	vs, err := s.versions()
	if err != nil {
		return nil, err
	}
	v, err := vs.GetVersion(ctx, arnStr)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errStateMachineDoesNotExist(arnStr)
	}
	if err != nil {
		return nil, err
	}
	sm, err := s.st.GetStateMachine(ctx, v.StateMachineARN)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errStateMachineDoesNotExist(arnStr)
	}
	if err != nil {
		return nil, err
	}
	desc := v.Description
	out := describeStateMachineOutput{
		StateMachineArn: v.ARN, Name: sm.Name, Status: "ACTIVE", Definition: v.Definition, RoleArn: v.RoleARN,
		Type: sm.Type, CreationDate: epoch(v.CreationDate), LoggingConfiguration: orDefault(v.Logging, defaultLogging),
		TracingConfiguration: orDefault(v.Tracing, defaultTracing), Description: &desc,
	}
	if !v.UpdateDate.IsZero() {
		out.RevisionID = v.RevisionID
	}
	if metadataOnly {
		out.Definition = "{}"
	} else {
		out.VariableReferences = s.variableReferences(sm.ARN, v.RevisionID, v.Definition, sm.Type == typeExpress)
	}
	return out, nil
}

// Aliases.

type routeOut struct {
	StateMachineVersionArn string `json:"stateMachineVersionArn"`
	Weight                 int    `json:"weight"`
}

func routingErr(format string, args ...any) error {
	e := awsapi.ValidationException(fmt.Sprintf(format, args...))
	e.Reason = "INVALID_ROUTING_CONFIGURATION"
	return e
}

// resolveRouting checks a routing configuration against AWS's rules and
// returns it with the machine its versions belong to.
func (s *Server) resolveRouting(ctx context.Context, vs store.Versions, routes []awsapi.RoutingConfigurationListItem) ([]store.Route, string, error) {
	var arns, weights []string
	sum := int64(0)
	machine := ""
	out := make([]store.Route, 0, len(routes))
	for _, r := range routes {
		arns = append(arns, *r.StateMachineVersionArn)
		weights = append(weights, strconv.FormatInt(*r.Weight, 10))
		sum += *r.Weight
	}
	for _, r := range routes {
		a, err := arn.Parse(*r.StateMachineVersionArn)
		if err != nil {
			return nil, "", errInvalidArn(err.Error())
		}
		if _, ok := a.Version(); !ok || a.Type != arn.StateMachine || a.Label != "" {
			return nil, "", routingErr("Routing configuration must contain state machine version ARNs. Received: [%s]", strings.Join(arns, ", "))
		}
		m := a.Machine().String()
		if machine == "" {
			machine = m
		} else if m != machine {
			return nil, "", routingErr("Routing configuration must contain state machine version ARNs of the same state machine. Received: [%s]", strings.Join(arns, ", "))
		}
		out = append(out, store.Route{VersionARN: *r.StateMachineVersionArn, Weight: int(*r.Weight)})
	}
	if len(out) == 2 && out[0].VersionARN == out[1].VersionARN {
		return nil, "", routingErr("Routing configuration must contain distinct state machine version ARNs. Received: [%s]", strings.Join(arns, ", "))
	}
	if sum != 100 {
		return nil, "", routingErr("Sum of routing configuration weights must equal 100. Received: [%s]", strings.Join(weights, ", "))
	}
	for _, r := range out {
		if _, err := vs.GetVersion(ctx, r.VersionARN); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil, "", errResourceNotFound(r.VersionARN)
			}
			return nil, "", err
		}
	}
	return out, machine, nil
}

type createAliasOutput struct {
	StateMachineAliasArn string `json:"stateMachineAliasArn"`
	CreationDate         epoch  `json:"creationDate"`
}

func (s *Server) createStateMachineAlias(ctx context.Context, body []byte) (any, error) {
	var in awsapi.CreateStateMachineAliasInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	vs, err := s.versions()
	if err != nil {
		return nil, err
	}
	routes, machine, err := s.resolveRouting(ctx, vs, in.RoutingConfiguration)
	if err != nil {
		return nil, err
	}
	if _, err := s.st.GetStateMachine(ctx, machine); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, errResourceNotFound(machine)
		}
		return nil, err
	}
	a := &store.Alias{
		ARN: machine + ":" + *in.Name, StateMachineARN: machine, Name: *in.Name, Description: deref(in.Description),
		Routing: routes, CreationDate: s.now(),
	}
	err = vs.CreateAlias(ctx, a)
	switch {
	case errors.Is(err, store.ErrAlreadyExists):
		old, gerr := vs.GetAlias(ctx, a.ARN)
		if gerr != nil {
			return nil, gerr
		}
		if old.Description == a.Description && sameRoutes(old.Routing, a.Routing) {
			return createAliasOutput{StateMachineAliasArn: old.ARN, CreationDate: epoch(old.CreationDate)}, nil
		}
		return nil, awsapi.ConflictException("Failed to create alias because an alias with the same name and a different routing configuration already exists: '" + a.ARN + "'")
	case errors.Is(err, store.ErrLimitExceeded):
		return nil, awsapi.ServiceQuotaExceededException(fmt.Sprintf("Maximum number of aliases (%d) reached for the state machine '%s'.", store.MaxAliasesPerMachine, machine))
	case err != nil:
		return nil, err
	}
	return createAliasOutput{StateMachineAliasArn: a.ARN, CreationDate: epoch(a.CreationDate)}, nil
}

func sameRoutes(a, b []store.Route) bool {
	if len(a) != len(b) {
		return false
	}
	for _, r := range a {
		found := false
		for _, q := range b {
			if q == r {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// aliasARN parses an argument that must be an alias ARN.
func aliasARN(s string) (arn.ARN, error) {
	a, err := unlabelledARN(s)
	if err != nil {
		return a, err
	}
	if !a.IsAlias() {
		return a, errInvalidArn("Invalid ARN prefix: " + s)
	}
	return a, nil
}

type describeAliasOutput struct {
	StateMachineAliasArn string     `json:"stateMachineAliasArn"`
	Name                 string     `json:"name"`
	Description          string     `json:"description,omitempty"`
	RoutingConfiguration []routeOut `json:"routingConfiguration"`
	CreationDate         epoch      `json:"creationDate"`
	UpdateDate           *epoch     `json:"updateDate,omitempty"`
}

// getAlias validates an alias ARN argument and returns the alias.
func (s *Server) getAlias(ctx context.Context, arnStr *string) (store.Versions, *store.Alias, error) {
	if _, err := aliasARN(*arnStr); err != nil {
		return nil, nil, err
	}
	vs, err := s.versions()
	if err != nil {
		return nil, nil, err
	}
	a, err := vs.GetAlias(ctx, *arnStr)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, errResourceNotFound(*arnStr)
	}
	return vs, a, err
}

func (s *Server) describeStateMachineAlias(ctx context.Context, body []byte) (any, error) {
	var in awsapi.DescribeStateMachineAliasInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	_, a, err := s.getAlias(ctx, in.StateMachineAliasArn)
	if err != nil {
		return nil, err
	}
	out := describeAliasOutput{
		StateMachineAliasArn: a.ARN, Name: a.Name, Description: a.Description, CreationDate: epoch(a.CreationDate),
		UpdateDate: epochPtr(a.UpdateDate),
	}
	for _, r := range a.Routing {
		out.RoutingConfiguration = append(out.RoutingConfiguration, routeOut{r.VersionARN, r.Weight})
	}
	return out, nil
}

type updateAliasOutput struct {
	UpdateDate epoch `json:"updateDate"`
}

func (s *Server) updateStateMachineAlias(ctx context.Context, body []byte) (any, error) {
	var in awsapi.UpdateStateMachineAliasInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	hasRouting := in.RoutingConfiguration != nil
	if in.Description == nil && !hasRouting {
		return nil, errValidation("Either the description or the routingConfiguration must be specified")
	}
	vs, a, err := s.getAlias(ctx, in.StateMachineAliasArn)
	if err != nil {
		return nil, err
	}
	next := *a
	if in.Description != nil {
		next.Description = *in.Description
	}
	if hasRouting {
		routes, machine, err := s.resolveRouting(ctx, vs, in.RoutingConfiguration)
		if err != nil {
			return nil, err
		}
		if machine != a.StateMachineARN {
			return nil, routingErr("Routing configuration must contain state machine version ARNs of the state machine '%s'", a.StateMachineARN)
		}
		next.Routing = routes
	}
	if next.Description == a.Description && sameRoutes(next.Routing, a.Routing) && !a.UpdateDate.IsZero() {
		return updateAliasOutput{UpdateDate: epoch(a.UpdateDate)}, nil // idempotent
	}
	next.UpdateDate = s.now()
	if err := vs.UpdateAlias(ctx, &next); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, errResourceNotFound(a.ARN)
		}
		return nil, err
	}
	return updateAliasOutput{UpdateDate: epoch(next.UpdateDate)}, nil
}

func (s *Server) deleteStateMachineAlias(ctx context.Context, body []byte) (any, error) {
	var in awsapi.DeleteStateMachineAliasInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	vs, a, err := s.getAlias(ctx, in.StateMachineAliasArn)
	if err != nil {
		return nil, err
	}
	if err := vs.DeleteAlias(ctx, a.ARN); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return struct{}{}, nil
}

type aliasListItem struct {
	StateMachineAliasArn string `json:"stateMachineAliasArn"`
	CreationDate         epoch  `json:"creationDate"`
}

type listAliasesOutput struct {
	StateMachineAliases []aliasListItem `json:"stateMachineAliases"`
	NextToken           string          `json:"nextToken,omitempty"`
}

func (s *Server) listStateMachineAliases(ctx context.Context, body []byte) (any, error) {
	in, err := decodeListVersions(body)
	if err != nil {
		return nil, err
	}
	a, err := unlabelledARN(*in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	vs, err := s.versions()
	if err != nil {
		return nil, err
	}
	machine, version := a.Machine().String(), ""
	switch {
	case a.Qualifier == "":
		if _, err := s.getMachine(ctx, machine); err != nil {
			return nil, err
		}
	case a.IsAlias():
		return nil, errInvalidArn("Resource type not valid in this context: alias")
	default:
		version = a.String()
		if _, err := vs.GetVersion(ctx, version); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil, errResourceNotFound(version)
			}
			return nil, err
		}
	}
	list := listing("ListStateMachineAliases", machine, version)
	page, err := s.page(list, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	items, next, err := vs.ListAliases(ctx, machine, version, page)
	if err != nil {
		return nil, storeErr(err)
	}
	out := listAliasesOutput{StateMachineAliases: make([]aliasListItem, 0, len(items)), NextToken: s.nextToken(list, next)}
	for _, al := range items {
		out.StateMachineAliases = append(out.StateMachineAliases, aliasListItem{al.ARN, epoch(al.CreationDate)})
	}
	return out, nil
}

// target is what a StartExecution ARN resolves to: the machine with the
// revision to run, and the version and alias it was reached through.
type target struct {
	sm      *store.StateMachine
	version string
	alias   string
}

// resolveStart resolves the state machine ARN of StartExecution: an
// unqualified ARN runs the current revision, a version ARN that version,
// and an alias ARN one of its versions picked at random by weight.
func (s *Server) resolveStart(ctx context.Context, a arn.ARN, arnStr string) (*target, error) {
	if a.Qualifier == "" || a.Label != "" {
		sm, err := s.getParsedMachine(ctx, a, arnStr)
		if err != nil {
			return nil, err
		}
		return &target{sm: sm}, nil
	}
	vs, err := s.versions()
	if err != nil {
		return nil, err
	}
	t := &target{}
	versionArn := a.String()
	if a.IsAlias() {
		al, err := vs.GetAlias(ctx, arnStr)
		if errors.Is(err, store.ErrNotFound) {
			return nil, errStateMachineDoesNotExist(arnStr)
		}
		if err != nil {
			return nil, err
		}
		t.alias = al.ARN
		versionArn = pickRoute(al.Routing)
	}
	v, err := vs.GetVersion(ctx, versionArn)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errStateMachineDoesNotExist(arnStr)
	}
	if err != nil {
		return nil, err
	}
	sm, err := s.getMachine(ctx, v.StateMachineARN)
	if err != nil {
		return nil, errStateMachineDoesNotExist(arnStr)
	}
	sm.Revision = v.Revision
	t.sm, t.version = sm, v.ARN
	return t, nil
}

// pickRoute picks a version of a routing configuration at random by weight.
func pickRoute(routes []store.Route) string {
	if len(routes) == 0 {
		return ""
	}
	total := 0
	for _, r := range routes {
		total += r.Weight
	}
	if total <= 0 {
		return routes[0].VersionARN
	}
	n := rand.IntN(total)
	for _, r := range routes {
		if n < r.Weight {
			return r.VersionARN
		}
		n -= r.Weight
	}
	return routes[len(routes)-1].VersionARN
}

// executionMeta returns what the Versions store keeps about an execution
// (zero when nothing, or no Versions store).
func (s *Server) executionMeta(ctx context.Context, arnStr string) store.ExecutionMeta {
	if s.ver == nil {
		return store.ExecutionMeta{}
	}
	m, _, err := s.ver.GetExecutionMeta(ctx, arnStr)
	if err != nil {
		s.log.Error("read execution metadata", "arn", arnStr, "err", err)
	}
	return m
}

// qualifierFilter returns, for a ListExecutions stateMachineArn, the
// unqualified machine ARN and a filter keeping the executions started
// through that version or alias (nil for an unqualified ARN).
func (s *Server) qualifierFilter(ctx context.Context, arnStr string) (string, func(x *store.Execution) bool, error) {
	a, err := machineARN(arnStr)
	if err != nil {
		return "", nil, err
	}
	if a.Qualifier == "" || a.Label != "" {
		return arnStr, nil, nil
	}
	vs, err := s.versions()
	if err != nil {
		return "", nil, err
	}
	if a.IsAlias() {
		if _, err := vs.GetAlias(ctx, arnStr); errors.Is(err, store.ErrNotFound) {
			return "", nil, errResourceNotFound(arnStr)
		}
	} else if _, err := vs.GetVersion(ctx, arnStr); errors.Is(err, store.ErrNotFound) {
		return "", nil, errResourceNotFound(arnStr)
	}
	alias := a.IsAlias()
	return a.Machine().String(), func(x *store.Execution) bool {
		m, _, _ := vs.GetExecutionMeta(ctx, x.ARN)
		if alias {
			return m.AliasARN == arnStr
		}
		return m.VersionARN == arnStr
	}, nil
}
