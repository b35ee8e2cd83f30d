package cluster

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// passChain is a machine of passStates Pass states.
const passStates = 20

func passChain() string {
	var b strings.Builder
	b.WriteString(`{"StartAt":"P0","States":{`)
	for i := range passStates {
		if i > 0 {
			b.WriteString(",")
		}
		if i == passStates-1 {
			fmt.Fprintf(&b, `"P%d":{"Type":"Pass","End":true}`, i)
		} else {
			fmt.Fprintf(&b, `"P%d":{"Type":"Pass","Next":"P%d"}`, i, i+1)
		}
	}
	b.WriteString(`}}`)
	return b.String()
}

// TestClusterThroughput measures durable transitions per second on
// PostgreSQL with 1, 2 and 3 `stepwell serve` processes sharing the
// database: STEPWELL_CLUSTER_BENCH=N starts N executions of a chain of
// 20 Pass states, round-robin over the processes, and times them until
// none runs. It logs one line per process count, with the servers' CPU
// time per transition (which the machine's other load does not change
// much, unlike the rate) and the load average.
func TestClusterThroughput(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("STEPWELL_CLUSTER_BENCH"))
	if n <= 0 {
		t.Skip("set STEPWELL_CLUSTER_BENCH=N (executions per run) to measure")
	}
	base := os.Getenv("STEPWELL_TEST_POSTGRES_DSN")
	if base == "" {
		t.Skip("STEPWELL_TEST_POSTGRES_DSN is not set")
	}
	bin := filepath.Join(t.TempDir(), "stepwell")
	if out, err := execCommand("go", "build", "-o", bin, "./cmd/stepwell"); err != nil {
		t.Fatalf("build stepwell: %v\n%s", err, out)
	}
	ls := httptest.NewServer(&lambda{calls: map[string]int{}, cl: &cluster{t: t}})
	defer ls.Close()
	for procs := 1; procs <= 3; procs++ {
		dsn, db := freshSchema(t, base)
		var nodes []*server
		for i := range procs {
			s := &server{name: fmt.Sprintf("bench-%d", i), log: filepath.Join(t.TempDir(), "node.log"), addr: freeAddr(t)}
			s.args = []string{"serve", "--addr", s.addr, "--store", dsn, "--account-id", account, "--node-name", s.name, "--console=false"}
			if err := s.start(bin); err != nil {
				t.Fatal(err)
			}
			s.client = newClient("http://" + s.addr)
			nodes = append(nodes, s)
		}
		ctx := context.Background()
		sm, err := nodes[0].client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("chain"),
			Definition: aws.String(passChain()), RoleArn: aws.String(role)})
		if err != nil {
			t.Fatal(err)
		}
		began := time.Now()
		var wg sync.WaitGroup
		for w := range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += 32 {
					s := nodes[i%procs]
					if _, err := s.client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn,
						Name: aws.String(fmt.Sprintf("x-%d", i)), Input: aws.String(`{}`)}); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		for {
			var running int
			if err := db.QueryRow(ctx, `SELECT count(*) FROM executions WHERE status = 'RUNNING'`).Scan(&running); err != nil {
				t.Fatal(err)
			}
			if running == 0 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		d := time.Since(began)
		// Each Pass state is one transition; the execution's start and end
		// are two more.
		transitions := n * (passStates + 2)
		var cpu time.Duration // the servers' (PostgreSQL's is not counted)
		for _, s := range nodes {
			s.kill()
			cpu += s.cmd.ProcessState.UserTime() + s.cmd.ProcessState.SystemTime()
		}
		load, _ := os.ReadFile("/proc/loadavg")
		t.Logf("%d process(es): %d executions, %d transitions in %v: %.0f transitions/s, servers' CPU %.0f µs per transition (load average %s)",
			procs, n, transitions, d.Round(time.Millisecond), float64(transitions)/d.Seconds(),
			float64(cpu.Microseconds())/float64(transitions), strings.Join(strings.Fields(string(load))[:3], " "))
	}
}
