package s3items

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/value"
)

// Result file groups, in the manifest's order.
var groups = []string{"FAILED", "PENDING", "SUCCEEDED"}

// OpenResults starts the export of a Map Run's results to the Bucket and
// Prefix of w's arguments. The children's entries are spooled to a
// temporary file per group as they come (SUCCEEDED, FAILED for failed,
// timed out and aborted children, PENDING for those that never started);
// Close uploads each group that has any as <Prefix>/<map run id>/
// <GROUP>_0.json, then manifest.json listing them, and returns the bucket
// and the manifest's key.
func (s *Store) OpenResults(ctx context.Context, w *engine.ResultWrite) (engine.ResultSink, error) {
	c, err := s.client(ctx, w.Region)
	if err != nil {
		return nil, serviceFault(fault.ResultWriterFailed, err)
	}
	bucket, prefix := str(w.Arguments, "Bucket"), str(w.Arguments, "Prefix")
	runID := w.MapRunARN[strings.LastIndexByte(w.MapRunARN, ':')+1:]
	dir := runID + "/"
	if prefix != "" {
		dir = strings.TrimSuffix(prefix, "/") + "/" + dir
	}
	e := &export{c: c, bucket: bucket, dir: dir, runARN: w.MapRunARN, files: make(map[string]*spool)}
	if w.Writer != nil {
		e.jsonl = w.Writer.OutputType == "JSONL"
		e.transformation = w.Writer.Transformation
	}
	return e, nil
}

// export is one Map Run's export in progress.
type export struct {
	c              *s3.Client
	bucket, dir    string
	runARN         string
	jsonl          bool
	transformation string
	files          map[string]*spool
	entries        []any
	buf            []byte
}

// spool is one group's file being written.
type spool struct {
	f     *os.File
	w     *bufio.Writer
	count int64 // entries written
	size  int64 // bytes written
}

// Add spools c's entries to its group's file.
func (e *export) Add(c *engine.ChildExecution) error {
	g := "FAILED"
	switch c.Status {
	case engine.StatusSucceeded:
		g = "SUCCEEDED"
	case "":
		g = "PENDING"
	}
	sp := e.files[g]
	if sp == nil {
		f, err := os.CreateTemp("", "stepwell-results-*.json")
		if err != nil {
			return fault.New(fault.ResultWriterFailed, "spool results: "+err.Error())
		}
		sp = &spool{f: f, w: bufio.NewWriterSize(f, 64<<10)}
		e.files[g] = sp
		if !e.jsonl {
			sp.write([]byte{'['})
		}
	}
	if e.transformation == "" || e.transformation == "NONE" {
		// The record, written without building it.
		e.buf = e.buf[:0]
		if sp.count > 0 && !e.jsonl {
			e.buf = append(e.buf, ',')
		}
		e.buf = engine.AppendRecord(e.buf, c)
		if e.jsonl {
			e.buf = append(e.buf, '\n')
		}
		sp.write(e.buf)
		sp.count++
		return nil
	}
	e.entries = engine.AppendEntries(e.entries[:0], e.transformation, c)
	for _, entry := range e.entries {
		e.buf = e.buf[:0]
		if sp.count > 0 && !e.jsonl {
			e.buf = append(e.buf, ',')
		}
		e.buf = value.Append(e.buf, entry)
		if e.jsonl {
			e.buf = append(e.buf, '\n')
		}
		sp.write(e.buf)
		sp.count++
	}
	return nil
}

func (sp *spool) write(b []byte) {
	n, _ := sp.w.Write(b) // a write error is reported by Flush
	sp.size += int64(n)
}

// Close uploads the spooled files and the manifest.
func (e *export) Close(ctx context.Context) (string, string, error) {
	defer e.Discard()
	files := value.NewObject(len(groups))
	for _, g := range groups {
		list := make([]any, 0, 1)
		if sp := e.files[g]; sp != nil {
			if !e.jsonl {
				sp.write([]byte{']'})
			}
			if err := sp.w.Flush(); err != nil {
				return "", "", fault.New(fault.ResultWriterFailed, "spool results: "+err.Error())
			}
			if _, err := sp.f.Seek(0, io.SeekStart); err != nil {
				return "", "", fault.New(fault.ResultWriterFailed, "spool results: "+err.Error())
			}
			key := e.dir + g + "_0.json"
			if err := put(ctx, e.c, e.bucket, key, sp.f, sp.size); err != nil {
				return "", "", err
			}
			f := value.NewObject(2)
			f.Set("Key", key)
			f.Set("Size", sp.size)
			list = append(list, f)
		}
		files.Set(g, list)
	}
	m := value.NewObject(3)
	m.Set("DestinationBucket", e.bucket)
	m.Set("MapRunArn", e.runARN)
	m.Set("ResultFiles", files)
	key := e.dir + "manifest.json"
	body := value.Marshal(m)
	if err := put(ctx, e.c, e.bucket, key, bytes.NewReader(body), int64(len(body))); err != nil {
		return "", "", err
	}
	return e.bucket, key, nil
}

// Discard removes the spooled files.
func (e *export) Discard() {
	for g, sp := range e.files {
		_ = sp.f.Close()
		_ = os.Remove(sp.f.Name())
		delete(e.files, g)
	}
}

// put writes one object of size bytes from body.
func put(ctx context.Context, c *s3.Client, bucket, key string, body io.ReadSeeker, size int64) error {
	_, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: body,
		ContentLength: aws.Int64(size), ContentType: aws.String("application/json"),
	})
	if err != nil {
		return serviceFault(fault.ResultWriterFailed, err)
	}
	return nil
}
