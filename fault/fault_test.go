package fault_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stepwell/stepwell/fault"
)

func TestAs(t *testing.T) {
	base := fault.New("Custom.Error", "boom")
	tests := []struct {
		name string
		err  error
		want *fault.Error
	}{
		{"bare fault", base, base},
		{"wrapped once", fmt.Errorf("invoke: %w", base), base},
		{"wrapped twice", fmt.Errorf("lambda: %w", fmt.Errorf("invoke: %w", base)), base},
		{"joined", errors.Join(errors.New("other"), base), base},
		{"no fault", errors.New("plain"), nil},
		{"nil", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := fault.As(tc.err)
			if got != tc.want || ok != (tc.want != nil) {
				t.Fatalf("As(%v) = %v, %v; want %v", tc.err, got, ok, tc.want)
			}
		})
	}
}
