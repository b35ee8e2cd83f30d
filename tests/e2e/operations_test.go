package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
)

// TestAllOperationsDispatched lists the operations of the API model and
// checks that the server answers each one with something other than an
// unknown or unsupported operation (an empty request gets a validation
// error or a real answer).
func TestAllOperationsDispatched(t *testing.T) {
	raw, err := os.ReadFile("../../../shared/spec/stepfunctions-api-model.json")
	if errors.Is(err, os.ErrNotExist) {
		raw, err = os.ReadFile("../../shared/spec/stepfunctions-api-model.json")
	}
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("API model not found next to the repository")
	}
	if err != nil {
		t.Fatal(err)
	}
	var model struct {
		Operations map[string]json.RawMessage `json:"operations"`
	}
	if err := json.Unmarshal(raw, &model); err != nil {
		t.Fatal(err)
	}
	if len(model.Operations) != 37 {
		t.Fatalf("the model has %d operations, want 37", len(model.Operations))
	}
	for op := range model.Operations {
		t.Run(op, func(t *testing.T) {
			body := `{}`
			if op == "GetActivityTask" {
				// An unknown activity answers at once instead of long polling.
				body = `{"activityArn":"arn:aws:states:us-east-1:111111111111:activity:none"}`
			}
			req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Amz-Target", "AWSStepFunctions."+op)
			req.Header.Set("Content-Type", "application/x-amz-json-1.0")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode >= 500 || bytes.Contains(b, []byte("UnknownOperation")) || bytes.Contains(b, []byte("UnsupportedOperation")) ||
				bytes.Contains(b, []byte("not supported by Stepwell yet")) {
				t.Fatalf("%s: %d %s", op, resp.StatusCode, b)
			}
		})
	}
}
