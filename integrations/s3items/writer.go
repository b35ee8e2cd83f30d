package s3items

import (
	"bytes"
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/value"
)

// Result file groups, in the manifest's order.
var groups = []string{"FAILED", "PENDING", "SUCCEEDED"}

// WriteResults exports a Map Run's results to the Bucket and Prefix of
// w's arguments: one file per group of children that has any
// (SUCCEEDED_0.json, FAILED_0.json for failed, timed out and aborted ones,
// PENDING_0.json for those that never started), then manifest.json listing
// them. It returns the bucket and the manifest's key,
// <Prefix>/<map run id>/manifest.json.
func (s *Store) WriteResults(ctx context.Context, w *engine.ResultWrite) (string, string, error) {
	bucket, prefix := str(w.Arguments, "Bucket"), str(w.Arguments, "Prefix")
	runID := w.MapRunARN[strings.LastIndexByte(w.MapRunARN, ':')+1:]
	dir := runID + "/"
	if prefix != "" {
		dir = strings.TrimSuffix(prefix, "/") + "/" + dir
	}
	c, err := s.client(ctx, w.Region)
	if err != nil {
		return "", "", serviceFault(fault.ResultWriterFailed, err)
	}
	jsonl := w.Writer != nil && w.Writer.OutputType == "JSONL"
	transformation := ""
	if w.Writer != nil {
		transformation = w.Writer.Transformation
	}
	byGroup := make(map[string][]*engine.ChildExecution, len(groups))
	for i := range w.Children {
		ch := &w.Children[i]
		g := "FAILED"
		switch ch.Status {
		case engine.StatusSucceeded:
			g = "SUCCEEDED"
		case "":
			g = "PENDING"
		}
		byGroup[g] = append(byGroup[g], ch)
	}
	files := value.NewObject(len(groups))
	for _, g := range groups {
		list := make([]any, 0, 1)
		if chs := byGroup[g]; len(chs) > 0 {
			key := dir + g + "_0.json"
			body := resultFile(chs, transformation, jsonl)
			if err := put(ctx, c, bucket, key, body); err != nil {
				return "", "", err
			}
			f := value.NewObject(2)
			f.Set("Key", key)
			f.Set("Size", int64(len(body)))
			list = append(list, f)
		}
		files.Set(g, list)
	}
	m := value.NewObject(3)
	m.Set("DestinationBucket", bucket)
	m.Set("MapRunArn", w.MapRunARN)
	m.Set("ResultFiles", files)
	key := dir + "manifest.json"
	if err := put(ctx, c, bucket, key, value.Marshal(m)); err != nil {
		return "", "", err
	}
	return bucket, key, nil
}

// put writes one object.
func put(ctx context.Context, c *s3.Client, bucket, key string, body []byte) error {
	_, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))), ContentType: aws.String("application/json"),
	})
	if err != nil {
		return serviceFault(fault.ResultWriterFailed, err)
	}
	return nil
}

// resultFile renders the entries of chs under transformation
// (engine.AppendEntries): a JSON array, or JSON Lines.
func resultFile(chs []*engine.ChildExecution, transformation string, jsonl bool) []byte {
	var b []byte
	if !jsonl {
		b = append(b, '[')
	}
	var entries []any
	for _, ch := range chs {
		entries = engine.AppendEntries(entries[:0], transformation, ch)
		for _, e := range entries {
			if len(b) > 1 && !jsonl {
				b = append(b, ',')
			}
			b = value.Append(b, e)
			if jsonl {
				b = append(b, '\n')
			}
		}
	}
	if !jsonl {
		b = append(b, ']')
	}
	return b
}
