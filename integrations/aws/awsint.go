// Package awsint runs Task states that call AWS services, wherever they
// live: real AWS, LocalStack, or the local emulators people run in CI
// (moto_server). Two resource families are served:
//
//   - AWS SDK integrations, arn:aws:states:::aws-sdk:SERVICE:apiAction
//     [.waitForTaskToken]: any API action of the services in the table of
//     services.go (S3, SQS, SNS, DynamoDB, EventBridge, Step Functions,
//     Lambda, Secrets Manager, SSM, KMS, STS). Parameters are the API's
//     PascalCase members, results are the API's output members, errors are
//     named <Service>.<Error>Exception as the AWS SDK for Java 2 that Step
//     Functions uses names them (S3.NoSuchKeyException,
//     DynamoDb.ResourceNotFoundException; DynamoDb.DynamoDbException for
//     an error the API does not model) with its cause text.
//   - Optimized integrations: sqs:sendMessage, sns:publish and
//     events:putEvents (each also .waitForTaskToken), and
//     dynamodb:getItem|putItem|updateItem|deleteItem, with Step Functions'
//     own touches (a message body that is not a string is sent as JSON
//     text; results carry SdkHttpMetadata and SdkResponseMetadata; errors
//     are named as the AWS SDK for Java 1 names them, SQS.AmazonSQSException,
//     DynamoDB.ResourceNotFoundException, EventBridge.FailedEntry).
//
// # How calls are made
//
// Every call goes through the typed clients of the AWS SDK for Go v2, found
// by reflection: the API action is the client's method of that name
// (sendMessage → (*sqs.Client).SendMessage), its input struct is filled
// from the task's parameters member by member (shape.go), and its output
// struct is turned back into a JSON value the same way. The SDK supplies
// every protocol (JSON 1.0/1.1, query, REST-JSON, REST-XML), signing,
// retries, checksums and error decoding, so a service is one row of data
// (its name, endpoint key, error name and client constructor) and every
// action it has works. The alternative, a generic caller per protocol
// family, would take the awsJson services' parameters as they are but needs
// the service models for SNS (query), S3 (REST-XML) and Lambda (REST-JSON)
// — exactly what the SDK's generated code already is. Reflection costs
// little next to the HTTP round trip: converting a DynamoDB PutItem's
// parameters (a nested item) into the SDK's input and a GetItem output back
// takes ~20 µs of CPU, 4.8 KB and 144 allocations (BenchmarkReflection, on
// a loaded 2-core VM); a call to a local moto_server takes milliseconds.
// Field lookups are cached per type.
//
// What reflection has to know about the shapes is handled in one place
// (shape.go) and per service as data (services.go): unions (DynamoDB's
// AttributeValue, as {"S": …} members), blobs (base64 text, as in the
// APIs' JSON, except those a service declares JSON, Lambda's Payload,
// which are JSON text as AWS shows them), timestamps (ISO 8601, as Java's
// Instant prints them), streaming bodies (S3 GetObject's Body is the
// object's text; PutObject's Body is sent as its JSON text, a string with
// its quotes, as AWS does), the parameters AWS's SDK adds on its own (S3
// PutObject's CRC32 checksum) and the error codes each API models
// (errors_gen.go, generated from the SDK's types by gen_errors.go: S3's
// NoSuchBucket for GetObject). Client-side validation is off: as from
// AWS's SDKs, a request with a missing member reaches the service, which
// answers for it.
//
// # Endpoints and credentials
//
// Config.Endpoints gives each service's endpoint (FromEnv reads
// AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE> and Step Functions Local's
// SQS_ENDPOINT, … ; ParseEndpoint reads --aws-endpoint flags). Requests
// are signed with Config.Static, else with the standard AWS credential
// chain (environment, shared config and profile, container and instance
// roles; a shared configuration that cannot be read fails only the tasks
// that need it). When the chain finds nothing, a service with a configured
// endpoint (an emulator) gets placeholder credentials, and a service
// without one fails its task with States.Runtime saying what to set: no
// request is ever signed with credentials the user did not configure, and
// nothing reaches AWS unless credentials are configured. Config.Local
// serves a service in-process (the server's own API for aws-sdk:sfn:*). A
// task's Credentials.RoleArn is assumed through STS (the "sts" endpoint,
// or AWS's when real credentials are configured); without either the task
// fails with States.Runtime.
//
// .waitForTaskToken tasks are run by the task-token broker
// (integrations/tasktoken), which calls this integration for the request
// and then waits for the token; Check rejects the patterns AWS does not
// offer (dynamodb:getItem.waitForTaskToken, .sync).
package awsint

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/integrations"
	"github.com/stepwell/stepwell/value"
)

// chainTimeout bounds the first look-up of the credential chain (which
// may ask an instance metadata service).
const chainTimeout = 30 * time.Second

// placeholder credentials sign requests to emulators when the user
// configured none.
var placeholder = aws.Credentials{AccessKeyID: "stepwell", SecretAccessKey: "stepwell", Source: "stepwell placeholder"}

// Integration calls AWS services for Task states. It implements
// engine.Invoker and engine.Checker; it is safe for concurrent use.
type Integration struct {
	cfg Config
	dec decoder
	enc encoder

	// chain is the standard credential chain (nil with Config.Static, or
	// when the shared configuration could not be read: chainErr).
	chain     aws.CredentialsProvider
	chainErr  error
	credsOnce sync.Once
	credsOK   bool // the chain (or Static) yields credentials

	mu      sync.Mutex
	clients map[clientKey]any
}

var (
	_ engine.Invoker = (*Integration)(nil)
	_ engine.Checker = (*Integration)(nil)
)

// clientKey identifies a client: a service in a region, signed with the
// configured credentials or a role assumed from them.
type clientKey struct {
	svc, region, role string
}

// New returns the integration. It does not contact any service: the
// credential chain is consulted at the first task.
func New(cfg Config) (*Integration, error) {
	for key, u := range cfg.Endpoints {
		if key != "" && !knownKey(key) {
			return nil, fmt.Errorf("aws endpoint: unknown service %q (known: %s)", key, strings.Join(serviceKeys(), ", "))
		}
		if err := checkURL(u); err != nil {
			return nil, fmt.Errorf("aws endpoint %s: %w", key, err)
		}
	}
	for key := range cfg.Local {
		if !knownKey(key) {
			return nil, fmt.Errorf("aws local service: unknown service %q", key)
		}
	}
	i := &Integration{cfg: cfg, clients: make(map[clientKey]any)}
	u := make(unions)
	for _, s := range services {
		for _, reg := range s.unions {
			reg(u)
		}
	}
	i.dec, i.enc = decoder{unions: u}, encoder{unions: u}
	if cfg.Static == nil {
		// LoadDefaultConfig reads the environment and the shared files;
		// credentials are only looked up when retrieved.
		// A configuration that cannot be read (a missing AWS_PROFILE)
		// fails the tasks that would need it, not the server.
		ac, err := config.LoadDefaultConfig(context.Background())
		if err != nil {
			i.chainErr = fmt.Errorf("aws config: %w", err)
		} else {
			i.chain = ac.Credentials
			if i.cfg.Region == "" {
				i.cfg.Region = ac.Region
			}
		}
	}
	return i, nil
}

// Route is the router entry for every task resource this integration
// serves: arn:aws:states:::sqs:*, sns:*, dynamodb:*, events:* and
// aws-sdk:*:*, with any pattern suffix (Check rejects those AWS does not
// offer). Match, Invoker and Checker are set.
func (i *Integration) Route() integrations.Route {
	return integrations.Route{Match: Handles, Invoker: i, Checker: i}
}

// resource is a parsed task resource of this integration.
type resource struct {
	svc     *service
	action  string     // API operation, e.g. "SendMessage"
	opt     *optimized // nil for aws-sdk resources
	pattern string     // suffix after the action: "", "waitForTaskToken", …
}

// families are the resource prefixes (after arn:PARTITION:states:::) this
// integration serves.
var families = []string{"aws-sdk:", "sqs:", "sns:", "dynamodb:", "events:"}

// Handles reports whether resource belongs to this integration (whether or
// not its service and action exist: Check and Invoke tell).
func Handles(resource string) bool {
	rest, ok := statesRest(resource)
	if !ok {
		return false
	}
	for _, f := range families {
		if strings.HasPrefix(rest, f) {
			return true
		}
	}
	return false
}

// statesRest returns what follows arn:PARTITION:states::: in resource.
func statesRest(resource string) (string, bool) {
	rest, ok := strings.CutPrefix(resource, "arn:")
	if !ok {
		return "", false
	}
	i := strings.IndexByte(rest, ':')
	if i < 1 {
		return "", false
	}
	return strings.CutPrefix(rest[i+1:], "states:::")
}

// parse parses resource; the error is the task's States.Runtime failure.
func parse(res string) (resource, error) {
	rest, ok := statesRest(res)
	if !ok {
		return resource{}, fault.New(fault.Runtime, "The resource '"+res+"' is not an AWS service integration.")
	}
	var r resource
	if sdk, ok := strings.CutPrefix(rest, "aws-sdk:"); ok {
		name, action, ok := strings.Cut(sdk, ":")
		if !ok || action == "" {
			return resource{}, fault.New(fault.Runtime, "The resource '"+res+"' is not an AWS SDK integration (arn:aws:states:::aws-sdk:SERVICE:apiAction).")
		}
		r.action, r.pattern, _ = strings.Cut(action, ".")
		if r.svc = serviceNamed(name); r.svc == nil {
			return resource{}, fault.New(fault.Runtime, "The AWS SDK integration for the service '"+name+
				"' is not available in this Stepwell build (available: "+strings.Join(sdkNames(), ", ")+").")
		}
	} else {
		base, pattern, _ := strings.Cut(rest, ".")
		r.opt = optimizedIntegrations[base]
		if r.opt == nil {
			return resource{}, fault.New(fault.Runtime, "The resource '"+res+"' is not supported by this Stepwell server.")
		}
		r.svc, r.action, r.pattern = r.opt.svc, r.opt.action, pattern
	}
	if r.action == "" {
		return resource{}, fault.New(fault.Runtime, "The resource '"+res+"' names no API action.")
	}
	r.action = strings.ToUpper(r.action[:1]) + r.action[1:]
	switch {
	case r.pattern == "":
	case r.pattern == "waitForTaskToken" && (r.opt == nil || r.opt.callback):
	default:
		return resource{}, fault.New(fault.Runtime, "The resource '"+res+"' does not support the ."+r.pattern+" integration pattern.")
	}
	return r, nil
}

// sdkNames lists the aws-sdk service names, sorted.
func sdkNames() []string {
	names := make([]string, len(services))
	for k, s := range services {
		names[k] = s.name
	}
	sort.Strings(names)
	return names
}

// Check implements engine.Checker: the resource names a service and action
// this integration can call, with a pattern AWS offers for it.
func (i *Integration) Check(_ context.Context, t *engine.Task) error {
	r, err := parse(t.Resource)
	if err != nil {
		return err
	}
	if _, ok := r.svc.clientType().MethodByName(r.action); !ok {
		return unknownAction(t.Resource, r)
	}
	return nil
}

func unknownAction(res string, r resource) error {
	return fault.New(fault.Runtime, "The resource '"+res+"' names an API action that the service '"+r.svc.name+"' does not have.")
}

// Invoke runs the task: one API call. The result is a value (see package
// value); errors are *fault.Error, except when ctx ends first, which
// returns ctx's error.
func (i *Integration) Invoke(ctx context.Context, t *engine.Task) (any, error) {
	r, err := parse(t.Resource)
	if err != nil {
		return nil, err
	}
	if r.pattern != "" {
		// The task-token broker runs .waitForTaskToken tasks and calls
		// Invoke with the request-response resource.
		return nil, fault.New(fault.Runtime, "The resource '"+t.Resource+"' needs the task-token broker in front of this integration.")
	}
	params, ok := t.Input.(*value.Object)
	if !ok && t.Input != nil {
		return nil, fault.New(fault.Runtime, "The parameters of '"+t.Resource+"' must be a JSON object, not "+value.TypeName(t.Input)+".")
	}
	if params == nil {
		params = value.NewObject(0)
	}
	client, err := i.client(ctx, r.svc, t)
	if err != nil {
		return nil, err
	}
	method := reflect.ValueOf(client).MethodByName(r.action)
	if !method.IsValid() {
		return nil, unknownAction(t.Resource, r)
	}
	for k, v := range r.svc.defaults[r.action] {
		if !params.Has(k) {
			params = params.With(k, v)
		}
	}
	if r.opt != nil {
		return i.invokeOptimized(ctx, r.opt, method, params)
	}
	out, err := i.call(ctx, r.svc, method, params)
	if err != nil {
		return nil, sdkFault(ctx, r.svc, err)
	}
	return i.result(r.svc, params, out)
}

// call calls the SDK method with params as its input. A panic of the
// reflection over an SDK shape this package does not handle fails the
// task with States.Runtime instead of the process.
func (i *Integration) call(ctx context.Context, svc *service, method reflect.Value, params *value.Object) (_ reflect.Value, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fault.New(fault.Runtime, fmt.Sprintf("The %s call could not be made: %v", svc.sdkName, p))
		}
	}()
	mt := method.Type()
	if mt.NumIn() < 2 || mt.In(1).Kind() != reflect.Pointer || mt.NumOut() != 2 {
		return reflect.Value{}, fault.New(fault.Runtime, "The API action "+mt.String()+" cannot be called.")
	}
	dec := i.dec
	dec.text = svc.textBlobs
	in, err := dec.decode(params, mt.In(1), "")
	if err != nil {
		return reflect.Value{}, err
	}
	if in.IsNil() {
		in = reflect.New(mt.In(1).Elem())
	}
	outs := method.Call([]reflect.Value{reflect.ValueOf(ctx), in})
	if e := outs[1].Interface(); e != nil {
		return reflect.Value{}, e.(error)
	}
	return outs[0], nil
}

// result converts the SDK output struct of a call to svc with params to
// the task's result (an object).
func (i *Integration) result(svc *service, params *value.Object, out reflect.Value) (*value.Object, error) {
	enc := i.enc
	enc.text = svc.textBlobs
	v, _, err := enc.encode(out)
	if fe, ok := fault.As(err); ok {
		return nil, fe
	}
	if err != nil {
		return nil, fault.New(fault.TaskFailed, "The result could not be read: "+err.Error())
	}
	o, ok := v.(*value.Object)
	if !ok {
		o = value.NewObject(0)
	}
	if svc.trim != nil {
		o = svc.trim(params, o)
	}
	for _, name := range svc.emptyMaps {
		if out.Kind() != reflect.Pointer || out.IsNil() {
			break
		}
		if f := out.Elem().FieldByName(name); f.IsValid() && f.Kind() == reflect.Map && !o.Has(name) {
			o = o.With(name, value.NewObject(0))
		}
	}
	return o, nil
}

// client returns the SDK client of svc for t's region and credentials.
func (i *Integration) client(ctx context.Context, svc *service, t *engine.Task) (any, error) {
	region := i.region(t.Region)
	role, err := roleOf(t.Credentials)
	if err != nil {
		return nil, err
	}
	key := clientKey{svc: svc.name, region: region, role: role}
	i.mu.Lock()
	c, ok := i.clients[key]
	i.mu.Unlock()
	if ok {
		return c, nil
	}
	ac, err := i.awsConfig(ctx, svc, region, role)
	if err != nil {
		return nil, err
	}
	c = svc.newClient(ac)
	i.mu.Lock()
	if prev, ok := i.clients[key]; ok {
		c = prev
	} else {
		i.clients[key] = c
	}
	i.mu.Unlock()
	return c, nil
}

// region returns the region of calls made for an execution in region
// (Config.Region when set, else the execution's, else us-east-1).
func (i *Integration) region(region string) string {
	switch {
	case i.cfg.Region != "":
		return i.cfg.Region
	case region != "":
		return region
	}
	return "us-east-1"
}

// awsConfig returns the SDK configuration of svc's clients in region,
// signing as role when it is not "": the endpoint and Config.HTTPClient
// (or the in-process handler of Config.Local), the credentials, and no
// client-side validation.
func (i *Integration) awsConfig(ctx context.Context, svc *service, region, role string) (aws.Config, error) {
	endpoint := i.cfg.endpoint(svc.key)
	httpClient, local := i.cfg.HTTPClient, false
	if h := i.cfg.Local[svc.key]; h != nil && i.cfg.Endpoints[svc.key] == "" {
		endpoint, httpClient, local = localBase, localClient{h: h}, true
	}
	creds, err := i.credentials(ctx, svc, endpoint)
	if err != nil {
		return aws.Config{}, err
	}
	if role != "" && !local {
		if creds, err = i.assume(ctx, creds, region, role); err != nil {
			return aws.Config{}, err
		}
	}
	ac := aws.Config{Region: region, Credentials: creds, HTTPClient: httpClient,
		APIOptions: []func(*middleware.Stack) error{noValidation}}
	if endpoint != "" {
		ac.BaseEndpoint = aws.String(endpoint)
	}
	return ac, nil
}

// noValidation removes the SDK's client-side check of required members:
// the AWS SDKs for Java that Step Functions uses send what they are given
// and the service answers (SQS's MissingParameter for a null MessageBody).
func noValidation(stack *middleware.Stack) error {
	_, _ = stack.Initialize.Remove("OperationInputValidation")
	return nil
}

// credentials returns the credentials that sign requests to svc at
// endpoint ("" for AWS's own).
func (i *Integration) credentials(ctx context.Context, svc *service, endpoint string) (aws.CredentialsProvider, error) {
	if i.cfg.Static != nil {
		return credentials.StaticCredentialsProvider{Value: *i.cfg.Static}, nil
	}
	i.credsOnce.Do(func() {
		if i.chain != nil {
			// Decided once, by the first task: its end must not decide
			// for the others.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), chainTimeout)
			defer cancel()
			i.chain = aws.NewCredentialsCache(i.chain)
			_, err := i.chain.Retrieve(ctx)
			i.credsOK = err == nil
		}
	})
	switch {
	case i.credsOK:
		return i.chain, nil
	case endpoint != "":
		return credentials.StaticCredentialsProvider{Value: placeholder}, nil
	}
	env := "AWS_ENDPOINT_URL_" + strings.ToUpper(svc.key)
	if names := endpointEnv[svc.key]; len(names) > 0 {
		env = names[0]
	}
	why := "No endpoint and no AWS credentials are configured for the service '" + svc.name + "'"
	if i.chainErr != nil {
		why = "No endpoint is configured for the service '" + svc.name + "' and the AWS configuration could not be read (" + i.chainErr.Error() + ")"
	}
	return nil, fault.New(fault.Runtime, why+": set "+env+" (or AWS_ENDPOINT_URL, or --aws-endpoint "+svc.key+"=URL) to use a local emulator, "+
		"or AWS credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE) and AWS_REGION to use AWS.")
}

// roleOf returns the RoleArn of a task's evaluated Credentials ("" when
// none).
func roleOf(c any) (string, error) {
	if c == nil {
		return "", nil
	}
	o, ok := c.(*value.Object)
	if !ok {
		return "", fault.New(fault.Runtime, "The task's Credentials must be an object with a RoleArn.")
	}
	v, ok := o.Get("RoleArn")
	if !ok {
		return "", nil
	}
	s, ok := v.(string)
	if !ok || s == "" {
		return "", fault.New(fault.Runtime, "The task's Credentials.RoleArn must be a non-empty string.")
	}
	return s, nil
}

// assume returns credentials of role, assumed through STS with base.
func (i *Integration) assume(ctx context.Context, base aws.CredentialsProvider, region, role string) (aws.CredentialsProvider, error) {
	endpoint := i.cfg.endpoint("sts")
	if endpoint == "" && !i.credsOK && i.cfg.Static == nil {
		return nil, fault.New(fault.Runtime, "The task's Credentials.RoleArn "+role+" cannot be assumed: no STS endpoint "+
			"(AWS_ENDPOINT_URL_STS or --aws-endpoint sts=URL) and no AWS credentials are configured.")
	}
	ac := aws.Config{Region: region, Credentials: base, HTTPClient: i.cfg.HTTPClient}
	if endpoint != "" {
		ac.BaseEndpoint = aws.String(endpoint)
	}
	p := aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(ac), role))
	if _, err := p.Retrieve(ctx); err != nil {
		return nil, fault.New(fault.Runtime, "The task's Credentials.RoleArn "+role+" could not be assumed: "+err.Error())
	}
	return p, nil
}
