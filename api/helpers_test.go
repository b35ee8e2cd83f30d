package api_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stepwell/stepwell/api"
	"github.com/stepwell/stepwell/arn"
	"github.com/stepwell/stepwell/executions"
)

// newAPI builds the API over an executions service of ec (Store and
// Engine required), both in account 111111111111 unless ac names another;
// the service is closed when the test ends. ac.Store and ac.Versions
// default to ec's.
func newAPI(t testing.TB, ec executions.Config, ac api.Config) *api.Server {
	t.Helper()
	if ac.Account == "" {
		ac.Account = "111111111111"
	}
	if ec.Scope == (arn.Scope{}) {
		ec.Scope = arn.Scope{Partition: ac.Partition, Region: ac.Region, Account: ac.Account}
	}
	svc := executions.New(ec)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = svc.Close(ctx)
	})
	if ac.Store == nil {
		ac.Store = ec.Store
	}
	if ac.Versions == nil {
		ac.Versions = ec.Versions
	}
	ac.Executions = svc
	s := api.New(ac)
	services.Store(s, svc)
	t.Cleanup(func() { services.Delete(s) })
	return s
}

// services maps the servers of newAPI to their executions services.
var services sync.Map

func serviceOf(t testing.TB, s *api.Server) *executions.Service {
	t.Helper()
	svc, ok := services.Load(s)
	if !ok {
		t.Fatal("not a server of newAPI")
	}
	return svc.(*executions.Service)
}
