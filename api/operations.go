package api

import "sort"

// Operations returns the names of the operations the API serves
// ("StartExecution", ...), sorted: what a request's X-Amz-Target may name.
func Operations() []string {
	ops := make([]string, 0, len(handlers))
	for op := range handlers {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	return ops
}
