package asl

// lang says in which query language a state field is allowed.
type lang uint8

const (
	langBoth lang = iota
	langJP        // JSONPath states only
	langJA        // JSONata states only
)

// stateFields is the field matrix: the fields each state type accepts and
// in which query language (checklist §1.3).
var stateFields = map[StateType]map[string]lang{
	TypePass: {
		"Type": langBoth, "Comment": langBoth, "QueryLanguage": langBoth, "Next": langBoth, "End": langBoth,
		"InputPath": langJP, "OutputPath": langJP, "ResultPath": langJP, "Parameters": langJP, "Result": langJP,
		"Assign": langBoth, "Output": langJA,
	},
	TypeTask: {
		"Type": langBoth, "Comment": langBoth, "QueryLanguage": langBoth, "Next": langBoth, "End": langBoth,
		"Resource": langBoth, "InputPath": langJP, "OutputPath": langJP, "ResultPath": langJP,
		"Parameters": langJP, "ResultSelector": langJP, "Arguments": langJA, "Output": langJA,
		"Assign": langBoth, "Retry": langBoth, "Catch": langBoth,
		"TimeoutSeconds": langBoth, "TimeoutSecondsPath": langJP,
		"HeartbeatSeconds": langBoth, "HeartbeatSecondsPath": langJP, "Credentials": langBoth,
	},
	TypeChoice: {
		"Type": langBoth, "Comment": langBoth, "QueryLanguage": langBoth,
		"Choices": langBoth, "Default": langBoth, "InputPath": langJP, "OutputPath": langJP,
		"Output": langJA, "Assign": langBoth,
	},
	TypeWait: {
		"Type": langBoth, "Comment": langBoth, "QueryLanguage": langBoth, "Next": langBoth, "End": langBoth,
		"Seconds": langBoth, "Timestamp": langBoth, "SecondsPath": langJP, "TimestampPath": langJP,
		"InputPath": langJP, "OutputPath": langJP, "Output": langJA, "Assign": langBoth,
	},
	TypeSucceed: {
		"Type": langBoth, "Comment": langBoth, "QueryLanguage": langBoth,
		"InputPath": langJP, "OutputPath": langJP, "Output": langJA,
	},
	TypeFail: {
		"Type": langBoth, "Comment": langBoth, "QueryLanguage": langBoth,
		"Error": langBoth, "Cause": langBoth, "ErrorPath": langJP, "CausePath": langJP,
	},
	TypeParallel: {
		"Type": langBoth, "Comment": langBoth, "QueryLanguage": langBoth, "Next": langBoth, "End": langBoth,
		"Branches": langBoth, "InputPath": langJP, "OutputPath": langJP, "ResultPath": langJP,
		"Parameters": langJP, "ResultSelector": langJP, "Arguments": langJA, "Output": langJA,
		"Assign": langBoth, "Retry": langBoth, "Catch": langBoth,
	},
	TypeMap: {
		"Type": langBoth, "Comment": langBoth, "QueryLanguage": langBoth, "Next": langBoth, "End": langBoth,
		"ItemProcessor": langBoth, "Iterator": langBoth, "ItemsPath": langJP, "Items": langJA,
		"ItemSelector": langBoth, "Parameters": langJP,
		"MaxConcurrency": langBoth, "MaxConcurrencyPath": langJP,
		"ToleratedFailurePercentage": langBoth, "ToleratedFailurePercentagePath": langJP,
		"ToleratedFailureCount": langBoth, "ToleratedFailureCountPath": langJP,
		"ItemReader": langBoth, "ItemBatcher": langBoth, "ResultWriter": langBoth, "Label": langBoth,
		"InputPath": langJP, "OutputPath": langJP, "ResultPath": langJP, "ResultSelector": langJP,
		"Output": langJA, "Assign": langBoth, "Retry": langBoth, "Catch": langBoth,
	},
}

// stateTypes lists the types in the order of AWS's message.
const stateTypesText = "[Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map]"

// retrierFields and catcherFields are the members of Retry and Catch
// elements.
var retrierFields = map[string]bool{
	"ErrorEquals": true, "IntervalSeconds": true, "MaxAttempts": true, "BackoffRate": true,
	"MaxDelaySeconds": true, "JitterStrategy": true, "Comment": true,
}

var catcherFields = map[string]lang{
	"ErrorEquals": langBoth, "Next": langBoth, "Comment": langBoth, "Assign": langBoth,
	"ResultPath": langJP, "Output": langJA,
}
