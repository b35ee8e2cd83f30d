package engine

// The branches and iterations of one execution that run at once, nested
// ones included, are bounded: each holds one of the execution's slots
// while it runs, and a thread gives its own slot back while it waits for
// its children (so that nested fan-outs never wait on their parents), on
// a Wait or a retry's backoff, and on a task (so that branches waiting on
// the outside — a callback, an activity worker, a timer — never keep
// their siblings from starting: on AWS, 150 branches waiting for task
// tokens all wait at once, and a system that answers once it holds them
// all must not deadlock here). Each running child may hold a few
// payloads' worth of values and history text: a Parallel of thousands of
// branches building values, or a Parallel of inline Maps of 40 iterations
// each, would otherwise hold them all at once. The children beyond the
// bound start as others end or wait. AWS states no such limit for
// Parallel (an inline Map runs at most 40 iterations at once on AWS too),
// and the iterations of a Distributed Map are executions of their own,
// not counted.

// maxRunningChildren is how many branches and iterations of one execution
// run at once at most.
const maxRunningChildren = 100

func (ex *execution) childSlots() chan struct{} {
	ex.slotsOnce.Do(func() { ex.slots = make(chan struct{}, maxRunningChildren) })
	return ex.slots
}

// takeSlot takes a slot for a child thread before it runs. It gives up,
// returning false, when the thread's context ends first (a sibling
// failed), unless must: a child whose recorded history shows it ran
// replays whatever happens.
func (t *thread) takeSlot(must bool) bool {
	slots := t.ex.childSlots()
	if must {
		slots <- struct{}{}
	} else {
		select {
		case slots <- struct{}{}:
		case <-t.ctx.Done():
			return false
		}
	}
	t.slot = true
	return true
}

// releaseSlot gives a child thread's slot back once it has run.
func (t *thread) releaseSlot() {
	if t.slot {
		t.slot = false
		<-t.ex.childSlots()
	}
}

// yieldSlot gives the thread's slot back while it waits for its children,
// and returns the function that takes one again once they have ended.
func (t *thread) yieldSlot() (retake func()) {
	if !t.slot {
		return func() {}
	}
	<-t.ex.childSlots()
	return func() { t.ex.childSlots() <- struct{}{} }
}
