package app_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/stepwell/stepwell/internal/app"
)

// onDurableStores runs test as a subtest on each durable store: the
// embedded one in a fresh data directory, and PostgreSQL in a fresh schema
// (skipped without STEPWELL_TEST_POSTGRES_DSN, see postgresSchemaDSN).
func onDurableStores(t *testing.T, test func(t *testing.T, cfg app.Config)) {
	t.Run("embedded", func(t *testing.T) {
		cfg := app.DefaultConfig()
		cfg.DataDir = t.TempDir()
		test(t, cfg)
	})
	t.Run("postgres", func(t *testing.T) {
		cfg := app.DefaultConfig()
		cfg.Store = postgresSchemaDSN(t)
		test(t, cfg)
	})
}

// tokenLambda is a Lambda Invoke API whose function takes a task token
// ({"token": ...}) and accepts it: it sends each token on tokens and
// counts its calls.
func tokenLambda(t *testing.T) (url string, tokens <-chan string, calls *atomic.Int32) {
	t.Helper()
	ch := make(chan string, 10)
	calls = new(atomic.Int32)
	lambda := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var in struct {
			Token string `json:"token"`
		}
		_ = json.NewDecoder(r.Body).Decode(&in)
		ch <- in.Token
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"accepted":true}`))
	}))
	t.Cleanup(lambda.Close)
	return lambda.URL, ch, calls
}

// postgresSchemaDSN returns a DSN for a fresh schema of the database in
// STEPWELL_TEST_POSTGRES_DSN (dropped after the test), or skips.
func postgresSchemaDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("STEPWELL_TEST_POSTGRES_DSN")
	if dsn == "" {
		if os.Getenv("STEPWELL_REQUIRE_POSTGRES") == "1" {
			t.Fatal("STEPWELL_TEST_POSTGRES_DSN is not set but STEPWELL_REQUIRE_POSTGRES=1")
		}
		t.Skip("set STEPWELL_TEST_POSTGRES_DSN (export STEPWELL_TEST_POSTGRES_DSN=$(scripts/postgres.sh))")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "stepwell_app_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("STEPWELL_TEST_POSTGRES_DSN must be a postgres:// URL here: %q", dsn)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// TestRestart_KeepsEverything checks, on each durable store, that what the
// server keeps besides executions (activities, versions, aliases, tags,
// the version and alias an execution was started through, redrives) is in
// the store: it survives a restart, and a redrive works on an execution
// that failed before the restart.
func TestRestart_KeepsEverything(t *testing.T) {
	onDurableStores(t, testRestartKeepsEverything)
}

func testRestartKeepsEverything(t *testing.T, cfg app.Config) {
	start := func() *app.Server {
		t.Helper()
		s, err := app.NewWatched(context.Background(), cfg, slog.New(slog.DiscardHandler), app.Watch{Writes: writes})
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(s.StoreInfo, "memory") {
			t.Fatalf("store %s", s.StoreInfo)
		}
		return s
	}
	restart := func(s *app.Server) *app.Server {
		t.Helper()
		if err := s.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		return start()
	}
	type tag struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	}
	tagsOf := func(s *app.Server, arn string) string {
		var out struct {
			Tags []tag `json:"tags"`
		}
		call(t, s.Handler, "ListTagsForResource", map[string]string{"resourceArn": arn}, &out)
		return fmt.Sprint(out.Tags)
	}
	type execution struct {
		Status                 string `json:"status"`
		StateMachineVersionArn string `json:"stateMachineVersionArn"`
		StateMachineAliasArn   string `json:"stateMachineAliasArn"`
		RedriveCount           *int   `json:"redriveCount"`
	}
	describe := func(s *app.Server, arn string) execution {
		var x execution
		call(t, s.Handler, "DescribeExecution", map[string]string{"executionArn": arn}, &x)
		return x
	}

	s := start()
	def := `{"StartAt":"C","States":{
		"C":{"Type":"Choice","Choices":[{"Variable":"$.fail","BooleanEquals":true,"Next":"F"}],"Default":"P"},
		"F":{"Type":"Fail","Error":"E","Cause":"c"},
		"P":{"Type":"Pass","End":true}}}`
	var sm struct {
		StateMachineArn        string `json:"stateMachineArn"`
		StateMachineVersionArn string `json:"stateMachineVersionArn"`
	}
	call(t, s.Handler, "CreateStateMachine", map[string]any{"name": "keep", "definition": def, "roleArn": "arn:aws:iam::123456789012:role/r",
		"publish": true, "tags": []tag{{"team", "a"}}}, &sm)
	if sm.StateMachineVersionArn == "" {
		t.Fatal("no version published")
	}
	alias := sm.StateMachineArn + ":live"
	call(t, s.Handler, "CreateStateMachineAlias", map[string]any{"name": "live", "routingConfiguration": []map[string]any{
		{"stateMachineVersionArn": sm.StateMachineVersionArn, "weight": 100}}}, nil)
	call(t, s.Handler, "TagResource", map[string]any{"resourceArn": sm.StateMachineArn, "tags": []tag{{"env", "test"}, {"team", "b"}}}, nil)
	var act struct {
		ActivityArn string `json:"activityArn"`
	}
	call(t, s.Handler, "CreateActivity", map[string]any{"name": "act", "tags": []tag{{"k", "v"}}}, &act)
	var failed struct {
		ExecutionArn string `json:"executionArn"`
	}
	call(t, s.Handler, "StartExecution", map[string]string{"stateMachineArn": alias, "input": `{"fail":true}`}, &failed)
	waitStatus(t, s.Handler, failed.ExecutionArn, "FAILED")

	s = restart(s)
	call(t, s.Handler, "DescribeStateMachine", map[string]string{"stateMachineArn": sm.StateMachineVersionArn}, nil)
	call(t, s.Handler, "DescribeStateMachineAlias", map[string]string{"stateMachineAliasArn": alias}, nil)
	call(t, s.Handler, "DescribeActivity", map[string]string{"activityArn": act.ActivityArn}, nil)
	if got := tagsOf(s, sm.StateMachineArn); got != "[{team b} {env test}]" {
		t.Errorf("machine tags after restart: %s", got)
	}
	if got := tagsOf(s, act.ActivityArn); got != "[{k v}]" {
		t.Errorf("activity tags after restart: %s", got)
	}
	x := describe(s, failed.ExecutionArn)
	if x.Status != "FAILED" || x.StateMachineAliasArn != alias || x.StateMachineVersionArn != sm.StateMachineVersionArn {
		t.Errorf("failed execution after restart: %+v", x)
	}
	// Redriven after the restart: the Fail state fails again.
	call(t, s.Handler, "RedriveExecution", map[string]string{"executionArn": failed.ExecutionArn}, nil)
	waitStatus(t, s.Handler, failed.ExecutionArn, "FAILED")
	if n := count(historyOf(t, s.Handler, failed.ExecutionArn), "ExecutionRedriven"); n != 1 {
		t.Errorf("%d ExecutionRedriven events", n)
	}
	var ok struct {
		ExecutionArn string `json:"executionArn"`
	}
	call(t, s.Handler, "StartExecution", map[string]string{"stateMachineArn": alias, "input": `{"fail":false}`}, &ok)
	waitStatus(t, s.Handler, ok.ExecutionArn, "SUCCEEDED")

	s = restart(s)
	defer s.Close(context.Background())
	if x := describe(s, failed.ExecutionArn); x.RedriveCount == nil || *x.RedriveCount != 1 || x.StateMachineAliasArn != alias {
		t.Errorf("redriven execution after restart: %+v", x)
	}
	if x := describe(s, ok.ExecutionArn); x.Status != "SUCCEEDED" || x.StateMachineAliasArn != alias {
		t.Errorf("execution started through the alias, after restart: %+v", x)
	}
	var acts struct {
		Activities []struct {
			ActivityArn string `json:"activityArn"`
		} `json:"activities"`
	}
	call(t, s.Handler, "ListActivities", map[string]any{}, &acts)
	if len(acts.Activities) != 1 || acts.Activities[0].ActivityArn != act.ActivityArn {
		t.Errorf("activities after restart: %+v", acts)
	}
}
