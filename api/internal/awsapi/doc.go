// Package awsapi is the Step Functions API model as Go code, generated
// from ../shared/spec/stepfunctions-api-model.json the way nats-server
// turns its errors.json into constructors.
//
// # Errors
//
// errors_gen.go declares a Code for every exception of the model, plus the
// protocol's own (SerializationException, UnknownOperationException,
// InternalFailure) and Stepwell's UnsupportedOperation, each with its
// __type namespace and HTTP status, and one constructor per code:
// awsapi.InvalidArn("Invalid Arn: '…'"). An error the model does not
// declare does not compile. The model carries no namespace or status:
// every exception is 400 under com.amazonaws.swf.service.v2.model#, except
// ValidationException, answered under com.amazon.coral.validate# as AWS's
// request validation does (the protocol errors are under
// com.amazon.coral.service#, InternalFailure with 500).
//
// # Request constraints
//
// inputs_gen.go declares each operation's input shape as a Go type
// (Operations maps an operation to its input's name) whose Validate method
// checks what the model says: required members, string lengths in UTF-16
// code units, patterns, enums, number ranges (an "integer" is also bounded
// by Java's int), list lengths and nested structures and lists, in the
// model's member order. It answers AWS's ValidationException: "2
// validation errors detected: Value 'DONE' at 'statusFilter' failed to
// satisfy constraint: …; Value '-1' at 'maxResults' failed to satisfy
// constraint: …", with sensitive values redacted. JSON type errors are the
// decoder's (SerializationException), before Validate. A valid request is
// checked without allocating.
//
// What the model does not say stays with the api: ARN syntax and resource
// types (InvalidArn), names (InvalidName), JSON inside strings
// (InvalidExecutionInput, InvalidOutput, TestState's mock, variables and
// context), sizes in bytes, tag characters and counts (TooManyTags),
// logging destinations (InvalidLoggingConfiguration), customer managed
// keys (InvalidEncryptionConfiguration), members that exclude or need each
// other (MissingRequiredParameter and the ValidationExceptions "Either …",
// "Only one of …", "Version description can only be set when publish is
// true"), alias routing rules (INVALID_ROUTING_CONFIGURATION), labelled
// ARNs, and everything TestState checks against the state under test.
//
// # Deviations from the model
//
// gen.overrides lists them: logging destinations are kept as raw JSON for
// the api; a tag's key is required (the model does not require it);
// kmsDataKeyReusePeriodSeconds outside 60..900 is left to the api, which
// answers InvalidEncryptionConfiguration; TestState's stateName and
// errorCausedByState are shown in messages though the model marks them
// sensitive. Each keeps an answer the api gave before its checks were
// generated, and each is a question to settle against AWS.
//
// # The api's hand-written checks this replaces
//
// Each api handler built a checker by hand (116 calls). All of them are
// generated, with the same messages:
//
//   - statemachines.go: CreateStateMachine (name, definition, roleArn, type,
//     versionDescription, tags via checkTags, loggingConfiguration.level
//     via checkLogging, encryptionConfiguration.type/kmsKeyId via
//     checkEncryption), DescribeStateMachine, UpdateStateMachine,
//     DeleteStateMachine, ListStateMachines (decodeListPage),
//     ValidateStateMachineDefinition.
//   - executions.go: StartExecution and StartSyncExecution (checkStart,
//     with traceHeader's \p{ASCII}* and the sync includedData),
//     DescribeExecution and DescribeStateMachineForExecution
//     (describedExecution), StopExecution, ListExecutions,
//     GetExecutionHistory and ListMapRuns (executionPage).
//   - versions.go: PublishStateMachineVersion, ListStateMachineVersions and
//     ListStateMachineAliases (decodeListVersions),
//     DeleteStateMachineVersion, CreateStateMachineAlias (name pattern,
//     checkRouting), Describe/DeleteStateMachineAlias (getAlias),
//     UpdateStateMachineAlias.
//   - activities.go, tasktokens.go: CreateActivity, Describe/DeleteActivity
//     and GetActivityTask (activityARN, workerName), SendTaskSuccess,
//     SendTaskFailure, SendTaskHeartbeat (decodeSendTask).
//   - tags.go: TagResource (tags required, checkTags), UntagResource
//     (tagKeys), ListTagsForResource (taggable).
//   - mapruns.go: DescribeMapRun (getMapRun), UpdateMapRun (with the
//     float toleratedFailurePercentage).
//   - redrive.go: RedriveExecution (clientToken's [!-~]+).
//   - teststate.go: TestState's 15 member checks (definition … mock,
//     stateConfiguration); its other checks need the state under test.
//
// One thing changes: when a request breaks several constraints, they are
// listed in the model's member order, which the hand-written checks did
// not always follow (CreateStateMachine, UpdateStateMachine and
// CreateActivity checked versionDescription before logging and tags, and
// encryptionConfiguration.type before kmsKeyId; UpdateMapRun
// toleratedFailureCount before toleratedFailurePercentage; TestState
// context before mock; GetActivityTask reported workerName alone before
// activityArn). The model's order is the one the api's tested
// two-violation message (ListExecutions) already follows.
package awsapi

//go:generate go run generate.go -model ../../../../shared/spec/stepfunctions-api-model.json
