package engine

// A Distributed Map's ItemBatcher: its children process batches of items
// instead of one item each. Each item goes through ItemSelector first;
// then the items are grouped, in order, into batches of at most
// MaxItemsPerBatch items and MaxInputBytesPerBatch bytes (of the batch's
// JSON), and each child's input is {"BatchInput": …, "Items": […]}
// (BatchInput only when given).

import (
	"strconv"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/jsonpath"
	"github.com/stepwell/stepwell/value"
)

// maxBatchBytes is AWS's limit of MaxInputBytesPerBatch (256 KiB).
const maxBatchBytes = 262144

// batchItems replaces cfg.items by the batches of the Map's ItemBatcher
// and marks them as the children's inputs.
func (t *thread) batchItems(r *stateRun, cfg *mapConfig) *failure {
	b := r.b.st.Batcher
	maxItems, f := t.batchLimit(r, cfg, b.MaxItemsPerBatch, b.MaxItemsPerBatchPath, b.MaxItemsPerBatchQuery, "MaxItemsPerBatch")
	if f != nil {
		return f
	}
	maxBytes, f := t.batchLimit(r, cfg, b.MaxInputBytesPerBatch, b.MaxInputBytesPerBatchPath, b.MaxInputBytesPerBatchQuery, "MaxInputBytesPerBatch")
	if f != nil {
		return f
	}
	if maxBytes <= 0 || maxBytes > maxBatchBytes {
		maxBytes = maxBatchBytes
	}
	var batchInput any
	hasInput := false
	switch {
	case b.BatchInputQuery != nil:
		if batchInput, f = t.query(r, b.BatchInputQuery, t.env(r)); f != nil {
			return f
		}
		hasInput = true
	case b.BatchInput != nil:
		if batchInput, f = t.template(r, b.BatchInput, cfg.eff); f != nil {
			return f
		}
		hasInput = true
	}
	var batches []any
	var cur []any
	size := int64(2) // the brackets of the Items array
	flush := func() {
		if len(cur) == 0 {
			return
		}
		in := value.NewObject(2)
		if hasInput {
			in.Set("BatchInput", batchInput)
		}
		in.Set("Items", cur)
		batches = append(batches, in)
		cur, size = nil, 2
	}
	for i := range cfg.items {
		item, f := r.b.flow.itemInput(t, t, r, cfg, i)
		if f != nil {
			return f
		}
		n := int64(len(value.Marshal(item)))
		if n+2 > maxBytes {
			return t.fail(fault.New(fault.Runtime, "Item at index "+strconv.Itoa(i)+" is larger than MaxInputBytesPerBatch ("+
				strconv.FormatInt(maxBytes, 10)+" bytes)."))
		}
		sep := int64(0)
		if len(cur) > 0 {
			sep = 1
		}
		if len(cur) > 0 && ((maxItems > 0 && int64(len(cur)) >= maxItems) || size+sep+n > maxBytes) {
			flush()
			sep = 0
		}
		cur = append(cur, item)
		size += sep + n
	}
	flush()
	cfg.items, cfg.batched = batches, true
	return nil
}

// batchLimit evaluates one of the batcher's limits: the literal, its Path
// (JSONPath) or its expression (JSONata); 0 when none is given.
func (t *thread) batchLimit(r *stateRun, cfg *mapConfig, lit *int64, p *jsonpath.Path, q *asl.Query, field string) (int64, *failure) {
	switch {
	case lit != nil:
		return *lit, nil
	case p != nil:
		r.env.Input = cfg.eff
		n, fe := intField(p, &r.env, field+"Path")
		if fe != nil {
			return 0, t.fatalf(fe)
		}
		if n <= 0 {
			return 0, t.fatalf(runtimeErr(&r.env, field+" must be positive."))
		}
		return n, nil
	case q != nil:
		v, f := t.query(r, q, t.env(r))
		if f != nil {
			return 0, f
		}
		n, ok := intOf(v)
		if !ok || n <= 0 {
			return 0, t.evaluationFailed(r, q.ResultTypeError("integer", v), r.prev)
		}
		return n, nil
	}
	return 0, nil
}
