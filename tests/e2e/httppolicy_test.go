package e2e

import (
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// TestHTTPTaskPolicy: `stepwell serve --http-task-deny private` fails an
// HTTP Task aimed at a server on the loopback network with
// States.Http.Socket and a cause naming the rule, without contacting it;
// --http-task-allow naming the target lets the same task through.
func TestHTTPTaskPolicy(t *testing.T) {
	var hits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer target.Close()
	def := `{"StartAt":"Call","States":{"Call":{"Type":"Task","Resource":"arn:aws:states:::http:invoke",
		"Parameters":{"ApiEndpoint":"` + target.URL + `/internal","Method":"GET"},"End":true}}}`
	for _, c := range []struct {
		flags []string
		want  types.ExecutionStatus
	}{
		{[]string{"--http-task-deny", "private"}, types.ExecutionStatusFailed},
		{[]string{"--http-task-allow", "api.example.com,10.0.0.0/8"}, types.ExecutionStatusFailed},
		{[]string{"--http-task-allow", "127.0.0.1", "--http-task-deny", "169.254.169.254"}, types.ExecutionStatusSucceeded},
	} {
		hits.Store(0)
		args := append([]string{"serve", "--addr", "127.0.0.1:0", "--store", "memory", "--account-id", "111111111111"}, c.flags...)
		cmd := exec.Command(binary, args...)
		cmd.Env = noAWSEnv(t.TempDir())
		cl := clientOf(startServe(t, cmd))
		sm := createMachine(t, cl, unique("http-policy"), def, types.StateMachineTypeStandard)
		d := startAndWait(t, cl, sm, `{}`)
		if d.Status != c.want {
			t.Errorf("%v: %s %s %s, want %s", c.flags, d.Status, aws.ToString(d.Error), aws.ToString(d.Cause), c.want)
			continue
		}
		if c.want == types.ExecutionStatusSucceeded {
			if hits.Load() != 1 {
				t.Errorf("%v: the target got %d requests, want 1", c.flags, hits.Load())
			}
			continue
		}
		if aws.ToString(d.Error) != "States.Http.Socket" || !strings.Contains(aws.ToString(d.Cause), "network policy") || hits.Load() != 0 {
			t.Errorf("%v: %s %q, the target got %d requests; want States.Http.Socket naming the policy, no request",
				c.flags, aws.ToString(d.Error), aws.ToString(d.Cause), hits.Load())
		}
	}
}
