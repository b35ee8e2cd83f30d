package s3items

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stepwell/stepwell/fault"
)

// inventoryManifest is the manifest.json of an S3 Inventory report (the
// members the reader uses).
type inventoryManifest struct {
	DestinationBucket string `json:"destinationBucket"` // arn:aws:s3:::name
	FileFormat        string `json:"fileFormat"`        // CSV, ORC or Parquet
	FileSchema        string `json:"fileSchema"`        // "Bucket, Key, Size, …"
	Files             []struct {
		Key string `json:"key"`
	} `json:"files"`
}

// readManifest reads the items of an S3 Inventory report (ReaderConfig
// InputType MANIFEST): manifest (the body of its manifest.json) lists
// CSV files, gzipped or not, in its destination bucket; each row is an
// item whose members are the fileSchema's fields, every value a string.
func (s *Store) readManifest(ctx context.Context, c *s3.Client, manifest io.Reader, each func(any) error) error {
	var m inventoryManifest
	if err := json.NewDecoder(io.LimitReader(manifest, 64<<20)).Decode(&m); err != nil {
		return fault.New(fault.ItemReaderFailed, "Invalid S3 inventory manifest: "+err.Error())
	}
	if !strings.EqualFold(m.FileFormat, "CSV") {
		return fault.New(fault.ItemReaderFailed, "S3 inventory files of format '"+m.FileFormat+"' are not supported: only CSV is.")
	}
	var headers []string
	for _, h := range strings.Split(m.FileSchema, ",") {
		headers = append(headers, strings.TrimSpace(h))
	}
	bucket := m.DestinationBucket
	if i := strings.LastIndexByte(bucket, ':'); i >= 0 {
		bucket = bucket[i+1:]
	}
	for _, f := range m.Files {
		if err := s.readInventoryFile(ctx, c, bucket, f.Key, headers, each); err != nil {
			return err
		}
	}
	return nil
}

// readInventoryFile hands on the rows of one inventory CSV file.
func (s *Store) readInventoryFile(ctx context.Context, c *s3.Client, bucket, key string, headers []string, each func(any) error) error {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return serviceFault(fault.ItemReaderFailed, err)
	}
	defer out.Body.Close()
	var r io.Reader = bufio.NewReaderSize(out.Body, 64<<10)
	if strings.HasSuffix(key, ".gz") {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return fault.New(fault.ItemReaderFailed, "S3 inventory file "+key+": "+err.Error())
		}
		defer zr.Close()
		r = zr
	}
	return readRows(r, headers, ',', each)
}

// readRows hands on each row of a CSV text without a header row as an
// object of headers in order (missing fields empty, extra ones dropped).
func readRows(r io.Reader, headers []string, sep rune, each func(any) error) error {
	order := make([]int, len(headers))
	for i := range order {
		order[i] = i
	}
	return csvRows(newCSVReader(r, sep), headers, order, each)
}
