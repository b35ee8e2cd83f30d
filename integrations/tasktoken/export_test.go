package tasktoken

// OnQueued makes b call f each time a task joins its activity's queue, so
// that tests wait for that instead of sleeping.
func OnQueued(b *Broker, f func(activity string)) { b.onQueued = f }
