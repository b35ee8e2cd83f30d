// Package awsapi is the Step Functions API model as Go code, generated
// from ../shared/spec/stepfunctions-api-model.json the way nats-server
// turns its errors.json into constructors.
//
// # Errors
//
// errors_gen.go declares a Code for every exception of the model, plus the
// protocol's own (SerializationException, UnknownOperationException,
// InternalFailure, and the authentication errors
// MissingAuthenticationTokenException, IncompleteSignatureException,
// UnrecognizedClientException, InvalidSignatureException and
// AccessDeniedException) and Stepwell's UnsupportedOperation, each with its
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
// Every api handler decodes its request into its awsapi input and calls
// Validate (the api's decodeInput) before anything else: the model's
// constraints are checked there and nowhere else. Several violations are
// listed in the model's member order.
//
// # What stays hand-written in the api, and why
//
// The model states each member on its own, as a string, number or list of
// a shape. What it cannot state stays with the api, which knows what the
// values mean, reads several members at once or needs the stored
// resources, and answers with the error types AWS uses for them rather
// than a ValidationException: ARN syntax and resource types (InvalidArn),
// names (InvalidName), JSON inside strings (InvalidExecutionInput,
// InvalidOutput, TestState's mock, variables and context), sizes in
// bytes, tag characters and counts (TooManyTags),
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
package awsapi

//go:generate go run generate.go -model ../../../../shared/spec/stepfunctions-api-model.json
