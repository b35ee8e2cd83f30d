package api_test

import (
	"encoding/base64"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepwell/stepwell/api"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/store/memory"
)

// TestPageTokens: a page token is opaque and works only for the listing
// that handed it out, for 24 hours, and across a restart with the same
// key; any other is InvalidToken, as AWS answers it.
func TestPageTokens(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC).Unix())
	clock := func() time.Time { return time.Unix(now.Load(), 0) }
	st := memory.New(memory.Options{})
	key := []byte("a page key of the server")
	newAPIServer := func(key []byte) *api.Server {
		eng := engine.New(engine.Config{Region: "us-east-1", AccountID: "111111111111"})
		return newAPI(t, executions.Config{Store: st, Engine: eng, Express: memory.New(memory.Options{MaxClosedExecutions: 10})},
			api.Config{Now: clock, PageTokenKey: key})
	}
	s := newAPIServer(key)
	a := create(t, s, "a", passDef, "")
	b := create(t, s, "b", passDef, "")
	create(t, s, "c", passDef, "")
	for _, sm := range []string{a, a, a, b, b, b} {
		x := ok(t, s, "StartExecution", mustJSON(map[string]any{"stateMachineArn": sm}))["executionArn"].(string)
		waitDone(t, s, x)
	}
	firstPage := func(s *api.Server, action string, in map[string]any) string {
		t.Helper()
		in["maxResults"] = 1
		tok, _ := ok(t, s, action, mustJSON(in))["nextToken"].(string)
		if tok == "" {
			t.Fatalf("%s %v: no nextToken", action, in)
		}
		return tok
	}
	execTok := firstPage(s, "ListExecutions", map[string]any{"stateMachineArn": a})
	machTok := firstPage(s, "ListStateMachines", map[string]any{})
	if strings.Contains(execTok, ".") || strings.Contains(machTok, ".") {
		t.Fatalf("tokens not opaque: %q %q", execTok, machTok)
	}
	tampered := []byte(execTok)
	tampered[len(tampered)-1] ^= 1
	raw, _ := base64.RawURLEncoding.DecodeString(execTok)
	storeTok := string(raw[25:]) // the store's own token, unsealed
	invalid := []struct {
		name, action string
		in           map[string]any
	}{
		{"another machine's token", "ListExecutions", map[string]any{"stateMachineArn": b, "nextToken": execTok}},
		{"another filter's token", "ListExecutions", map[string]any{"stateMachineArn": a, "statusFilter": "SUCCEEDED", "nextToken": execTok}},
		{"another operation's token", "ListStateMachines", map[string]any{"nextToken": execTok}},
		{"ListStateMachines' token for ListExecutions", "ListExecutions", map[string]any{"stateMachineArn": a, "nextToken": machTok}},
		{"a tampered token", "ListExecutions", map[string]any{"stateMachineArn": a, "nextToken": string(tampered)}},
		{"the store's token", "ListExecutions", map[string]any{"stateMachineArn": a, "nextToken": storeTok}},
		{"garbage", "ListStateMachines", map[string]any{"nextToken": "!!!"}},
	}
	for _, c := range invalid {
		t.Run(c.name, func(t *testing.T) {
			r := call(t, s, c.action, mustJSON(c.in))
			if r.status != 400 || r.body["__type"] != "com.amazonaws.swf.service.v2.model#InvalidToken" {
				t.Fatalf("HTTP %d %s", r.status, r.raw)
			}
		})
	}
	// Its own listing takes it, with any maxResults, after a restart with
	// the same key too.
	ok(t, s, "ListExecutions", mustJSON(map[string]any{"stateMachineArn": a, "nextToken": execTok, "maxResults": 5}))
	ok(t, newAPIServer(key), "ListExecutions", mustJSON(map[string]any{"stateMachineArn": a, "nextToken": execTok}))
	if r := call(t, newAPIServer([]byte("another key")), "ListExecutions", mustJSON(map[string]any{"stateMachineArn": a, "nextToken": execTok})); r.status != 400 {
		t.Fatalf("another server's key: HTTP %d %s", r.status, r.raw)
	}
	// 24 hours later it has expired.
	now.Add(int64(24*time.Hour/time.Second) + 1)
	if r := call(t, s, "ListExecutions", mustJSON(map[string]any{"stateMachineArn": a, "nextToken": execTok})); r.status != 400 ||
		r.body["__type"] != "com.amazonaws.swf.service.v2.model#InvalidToken" {
		t.Fatalf("expired: HTTP %d %s", r.status, r.raw)
	}
}
