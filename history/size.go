package history

// sizeOverhead is what an event costs beyond its data and causes (type,
// ids, timestamp, names), as Size counts it.
const sizeOverhead = 128

// Size estimates the bytes an event takes once stored or held: its
// execution data (inputs, outputs, parameters, assigned variables), its
// error causes, and a fixed overhead. Budgets on histories count it
// (a history's bytes per execution, the closed Express executions kept in
// memory).
func (e *Event) Size() int64 {
	n := sizeOverhead
	cause := func(s *string) {
		if s != nil {
			n += len(*s)
		}
	}
	if d := e.StateEnteredEventDetails; d != nil {
		n += len(d.Input)
	}
	if d := e.StateExitedEventDetails; d != nil {
		n += len(d.Output)
		for k, v := range d.AssignedVariables {
			n += len(k) + len(v)
		}
	}
	if d := e.TaskScheduledEventDetails; d != nil {
		n += len(d.Parameters)
	}
	if d := e.TaskSucceededEventDetails; d != nil {
		n += len(d.Output)
	}
	if d := e.TaskSubmittedEventDetails; d != nil {
		n += len(d.Output)
	}
	if d := e.TaskFailedEventDetails; d != nil {
		cause(d.Cause)
	}
	if d := e.LambdaFunctionScheduledEventDetails; d != nil {
		n += len(d.Input)
	}
	if d := e.LambdaFunctionSucceededEventDetails; d != nil {
		n += len(d.Output)
	}
	if d := e.LambdaFunctionFailedEventDetails; d != nil {
		cause(d.Cause)
	}
	if d := e.ActivityScheduledEventDetails; d != nil {
		n += len(d.Input)
	}
	if d := e.ActivitySucceededEventDetails; d != nil {
		n += len(d.Output)
	}
	if d := e.ActivityFailedEventDetails; d != nil {
		cause(d.Cause)
	}
	if d := e.ExecutionStartedEventDetails; d != nil {
		n += len(d.Input)
	}
	if d := e.ExecutionSucceededEventDetails; d != nil {
		n += len(d.Output)
	}
	if d := e.ExecutionFailedEventDetails; d != nil {
		cause(d.Cause)
	}
	if d := e.EvaluationFailedEventDetails; d != nil {
		cause(d.Cause)
	}
	return int64(n)
}
