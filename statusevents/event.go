package statusevents

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/stepwell/stepwell/arn"
	"github.com/stepwell/stepwell/store"
)

// Event is an EventBridge event of Step Functions: the envelope every
// EventBridge event has, and the execution's description in Detail.
type Event struct {
	Version    string   `json:"version"`     // "0"
	ID         string   `json:"id"`          // a random UUID
	DetailType string   `json:"detail-type"` // DetailType
	Source     string   `json:"source"`      // Source
	Account    string   `json:"account"`
	Time       string   `json:"time"` // when the status changed, RFC 3339 to the second, UTC
	Region     string   `json:"region"`
	Resources  []string `json:"resources"` // the execution's ARN
	Detail     Detail   `json:"detail"`
}

// The envelope's constant fields.
const (
	DetailType = "Step Functions Execution Status Change"
	Source     = "aws.states"
)

// Detail describes the execution as DescribeExecution does, at the time
// of the change: absent values are null, dates are epoch milliseconds.
type Detail struct {
	ExecutionArn           string       `json:"executionArn"`
	StateMachineArn        string       `json:"stateMachineArn"`
	StateMachineVersionArn *string      `json:"stateMachineVersionArn"`
	StateMachineAliasArn   *string      `json:"stateMachineAliasArn"`
	Name                   string       `json:"name"`
	Status                 string       `json:"status"`
	StartDate              int64        `json:"startDate"`
	StopDate               *int64       `json:"stopDate"`
	Input                  *string      `json:"input"`
	InputDetails           *DataDetails `json:"inputDetails"`
	Output                 *string      `json:"output"`
	OutputDetails          *DataDetails `json:"outputDetails"`
	Error                  *string      `json:"error"`
	Cause                  *string      `json:"cause"`
	RedriveCount           int64        `json:"redriveCount"`
	RedriveDate            *int64       `json:"redriveDate"`
	RedriveStatus          string       `json:"redriveStatus"`
	RedriveStatusReason    *string      `json:"redriveStatusReason"`
}

// DataDetails says whether an input or output is in the event.
type DataDetails struct {
	Included bool `json:"included"`
}

// MaxDataBytes is EventBridge's bound on the execution data of an event
// (248 KiB): when the escaped input and output together exceed it, the
// input is left out; when the escaped output alone does, the output is too
// (inputDetails/outputDetails then say "included": false).
const MaxDataBytes = 248 * 1024

// change is one status change of an execution, as the watcher saw it;
// what it did not see (the input and the start date of a resumed or
// redriven execution) is read from the store when the event is built.
type change struct {
	at               time.Time
	executionARN     string
	stateMachineARN  string
	version, alias   string
	status           string
	start            time.Time // zero: unknown, read the row
	input            *string   // nil: unknown, read the row
	output           *string
	errName, cause   *string
	redriveCount     int64
	redriveDate      time.Time
	redriveAvailable bool // redriveDate is known
}

// build returns the event of a change; row is the execution's row when
// the change lacks its input or start date (nil otherwise, or when it
// cannot be read).
func (c *change) build(id string, row *store.Execution) Event {
	a, _ := arn.Parse(c.executionARN)
	d := Detail{
		ExecutionArn: c.executionARN, StateMachineArn: c.stateMachineARN,
		StateMachineVersionArn: optional(c.version), StateMachineAliasArn: optional(c.alias),
		Name: a.Name, Status: c.status, Error: c.errName, Cause: c.cause,
		RedriveCount: c.redriveCount,
	}
	start, input := c.start, c.input
	if row != nil {
		if start.IsZero() {
			start = row.StartDate
		}
		if input == nil {
			input = &row.Input
		}
	}
	if start.IsZero() {
		start = c.at
	}
	d.StartDate = start.UnixMilli()
	if c.status != store.StatusRunning {
		d.StopDate = millis(c.at)
	}
	if c.redriveAvailable {
		d.RedriveDate = millis(c.redriveDate)
	}
	switch c.status {
	case store.StatusRunning, store.StatusSucceeded:
		d.RedriveStatus = "NOT_REDRIVABLE"
		reason := "Execution is " + c.status + " and cannot be redriven"
		d.RedriveStatusReason = &reason
	default:
		d.RedriveStatus = "REDRIVABLE"
	}
	// EventBridge's size rule: the output first, then the input.
	outLen, inLen := escapedLen(c.output), escapedLen(input)
	if c.output != nil {
		d.OutputDetails = &DataDetails{Included: outLen <= MaxDataBytes}
		if d.OutputDetails.Included {
			d.Output = c.output
		} else {
			outLen = 0
		}
	}
	if input != nil {
		d.InputDetails = &DataDetails{Included: inLen+outLen <= MaxDataBytes}
		if d.InputDetails.Included {
			d.Input = input
		}
	}
	return Event{
		Version: "0", ID: id, DetailType: DetailType, Source: Source,
		Account: a.Account, Region: a.Region, Time: c.at.UTC().Format(time.RFC3339),
		Resources: []string{c.executionARN}, Detail: d,
	}
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func millis(t time.Time) *int64 {
	ms := t.UnixMilli()
	return &ms
}

// escapedLen is the length of s as a JSON string (0 for nil).
func escapedLen(s *string) int {
	if s == nil {
		return 0
	}
	if b, err := json.Marshal(*s); err == nil {
		return len(b)
	}
	return len(strconv.Quote(*s))
}
