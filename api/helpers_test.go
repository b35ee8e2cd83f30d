package api_test

import (
	"context"
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
	return api.New(ac)
}
