package s3items

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/value"
)

// Causes of States.ItemReaderFailed, worded as AWS words them.
const (
	causeDuplicateHeaders = "CSV headers cannot contain duplicates."
	causeNotIterable      = "Attempting to map over non-iterable node."
)

// errEnough stops a reading once MaxItems items were handed on.
var errEnough = errors.New("enough items")

// ReadItems reads the items of r's ItemReader from S3 (see the package
// comment) and calls each with every one, at most r.MaxItems when
// positive.
func (s *Store) ReadItems(ctx context.Context, r *engine.ItemRead, each func(item any) error) error {
	n := int64(0)
	limited := func(item any) error {
		if err := each(item); err != nil {
			return err
		}
		n++
		if r.MaxItems > 0 && n >= r.MaxItems {
			return errEnough
		}
		return nil
	}
	c, err := s.client(ctx, r.Region)
	if err != nil {
		return serviceFault(fault.ItemReaderFailed, err)
	}
	switch r.Reader.Action {
	case "listObjectsV2":
		err = listObjects(ctx, c, r.Arguments, limited)
	default:
		err = s.getObject(ctx, c, r, limited)
	}
	if errors.Is(err, errEnough) {
		return nil
	}
	return err
}

// getObject reads the object named by r's arguments and decodes its items
// by r's InputType.
func (s *Store) getObject(ctx context.Context, c *s3.Client, r *engine.ItemRead, each func(any) error) error {
	rd := r.Reader
	// Check what can be checked before reading.
	if rd.InputType == "CSV" && rd.CSVHeaderLocation == "GIVEN" && duplicates(rd.CSVHeaders) {
		return fault.New(fault.ItemReaderFailed, causeDuplicateHeaders)
	}
	in := &s3.GetObjectInput{Bucket: aws.String(str(r.Arguments, "Bucket")), Key: aws.String(str(r.Arguments, "Key"))}
	if v := str(r.Arguments, "VersionId"); v != "" {
		in.VersionId = aws.String(v)
	}
	out, err := c.GetObject(ctx, in)
	if err != nil {
		return serviceFault(fault.ItemReaderFailed, err)
	}
	defer out.Body.Close()
	body := bufio.NewReaderSize(out.Body, 64<<10)
	switch rd.InputType {
	case "CSV":
		return readCSV(body, rd.CSVHeaderLocation, rd.CSVHeaders, delimiter(rd.CSVDelimiter), each)
	case "JSONL":
		return readJSONL(body, each)
	case "MANIFEST":
		return s.readManifest(ctx, c, body, each)
	default:
		return readJSON(body, rd.ItemsPointer, each)
	}
}

// delimiter returns the separator of a CSVDelimiter (COMMA by default).
func delimiter(name string) rune {
	switch name {
	case "PIPE":
		return '|'
	case "SEMICOLON":
		return ';'
	case "SPACE":
		return ' '
	case "TAB":
		return '\t'
	}
	return ','
}

// duplicates reports whether a header appears twice.
func duplicates(headers []string) bool {
	seen := make(map[string]bool, len(headers))
	for _, h := range headers {
		if seen[h] {
			return true
		}
		seen[h] = true
	}
	return false
}

// readCSV hands on each row of a CSV text as an object of its columns
// named by the headers (given, or the first row's): extra fields are
// dropped, missing ones are empty strings; every value is a string.
func readCSV(r io.Reader, location string, given []string, sep rune, each func(any) error) error {
	cr := newCSVReader(r, sep)
	headers := given
	if location != "GIVEN" {
		first, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fault.New(fault.ItemReaderFailed, "CSV: "+err.Error())
		}
		headers = append([]string(nil), first...)
		if duplicates(headers) {
			return fault.New(fault.ItemReaderFailed, causeDuplicateHeaders)
		}
	}
	return csvRows(cr, headers, javaOrder(headers), each)
}

// newCSVReader reads a CSV text as AWS does: rows of any length, lazy
// quotes.
func newCSVReader(r io.Reader, sep rune) *csv.Reader {
	cr := csv.NewReader(r)
	cr.Comma = sep
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	return cr
}

// csvRows hands on each row of cr as an object of headers, its members in
// order (indexes of headers).
func csvRows(cr *csv.Reader, headers []string, order []int, each func(any) error) error {
	for {
		row, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fault.New(fault.ItemReaderFailed, "CSV: "+err.Error())
		}
		o := value.NewObject(len(headers))
		for _, i := range order {
			v := ""
			if i < len(row) {
				v = row[i]
			}
			o.Set(headers[i], v)
		}
		if err := each(o); err != nil {
			return err
		}
	}
}

// readJSONL hands on the JSON value of each non-blank line.
func readJSONL(r *bufio.Reader, each func(any) error) error {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && err != io.EOF {
			return fault.New(fault.ItemReaderFailed, err.Error())
		}
		if t := bytes.TrimSpace(line); len(t) > 0 {
			v, perr := value.Parse(t)
			if perr != nil {
				return fault.New(fault.ItemReaderFailed, "Invalid JSON line: "+perr.Error())
			}
			if eerr := each(v); eerr != nil {
				return eerr
			}
		}
		line = line[:0]
		if err == io.EOF {
			return nil
		}
	}
}

// readJSON hands on the elements of the JSON array at the root of a JSON
// text, or at pointer (a JSON Pointer, RFC 6901) within it, decoding one
// element at a time.
func readJSON(r io.Reader, pointer string, each func(any) error) error {
	dec := json.NewDecoder(r)
	var path []string
	if pointer != "" && pointer != "/" {
		for _, seg := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
			seg = strings.ReplaceAll(strings.ReplaceAll(seg, "~1", "/"), "~0", "~")
			path = append(path, seg)
		}
	}
	tok, err := dec.Token()
	if err != nil {
		return fault.New(fault.ItemReaderFailed, "Invalid JSON: "+err.Error())
	}
	for _, seg := range path {
		if tok, err = descend(dec, tok, seg); err != nil {
			return err
		}
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fault.New(fault.ItemReaderFailed, causeNotIterable)
	}
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fault.New(fault.ItemReaderFailed, "Invalid JSON: "+err.Error())
		}
		v, err := value.Parse(raw)
		if err != nil {
			return fault.New(fault.ItemReaderFailed, "Invalid JSON: "+err.Error())
		}
		if err := each(v); err != nil {
			return err
		}
	}
	return nil
}

// descend moves dec from the value that starts with tok to its member (or
// element) seg and returns that member's first token.
func descend(dec *json.Decoder, tok json.Token, seg string) (json.Token, error) {
	d, ok := tok.(json.Delim)
	notFound := fault.New(fault.ItemReaderFailed, causeNotIterable)
	switch {
	case ok && d == '{':
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, fault.New(fault.ItemReaderFailed, "Invalid JSON: "+err.Error())
			}
			if k, _ := kt.(string); k == seg {
				t, err := dec.Token()
				if err != nil {
					return nil, fault.New(fault.ItemReaderFailed, "Invalid JSON: "+err.Error())
				}
				return t, nil
			}
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, fault.New(fault.ItemReaderFailed, "Invalid JSON: "+err.Error())
			}
		}
	case ok && d == '[':
		idx, err := strconv.Atoi(seg)
		if err != nil || idx < 0 {
			return nil, notFound
		}
		for i := 0; dec.More(); i++ {
			if i == idx {
				t, err := dec.Token()
				if err != nil {
					return nil, fault.New(fault.ItemReaderFailed, "Invalid JSON: "+err.Error())
				}
				return t, nil
			}
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, fault.New(fault.ItemReaderFailed, "Invalid JSON: "+err.Error())
			}
		}
	}
	return nil, notFound
}

// listObjects hands on the objects under the arguments' Bucket and Prefix
// (listObjectsV2's other parameters too), page by page, as AWS's
// listObjectsV2 reader does: {"Etag", "Key", "LastModified" (epoch
// seconds), "Size", "StorageClass"}.
func listObjects(ctx context.Context, c *s3.Client, args *value.Object, each func(any) error) error {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(str(args, "Bucket"))}
	if p := str(args, "Prefix"); p != "" {
		in.Prefix = aws.String(p)
	}
	if d := str(args, "Delimiter"); d != "" {
		in.Delimiter = aws.String(d)
	}
	if sa := str(args, "StartAfter"); sa != "" {
		in.StartAfter = aws.String(sa)
	}
	p := s3.NewListObjectsV2Paginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return serviceFault(fault.ItemReaderFailed, err)
		}
		for _, obj := range page.Contents {
			o := value.NewObject(5)
			o.Set("Etag", aws.ToString(obj.ETag))
			o.Set("Key", aws.ToString(obj.Key))
			var mod int64
			if obj.LastModified != nil {
				mod = obj.LastModified.Unix()
			}
			o.Set("LastModified", mod)
			o.Set("Size", aws.ToInt64(obj.Size))
			sc := string(obj.StorageClass)
			if sc == "" {
				sc = "STANDARD"
			}
			o.Set("StorageClass", sc)
			if err := each(o); err != nil {
				return err
			}
		}
	}
	return nil
}
