package executions

import (
	"testing"
	"time"
)

// TestWorthParking: a wait parks when it is at least ParkAfter long, and
// a ParkAfter more per 100 events its revival replays; never with a
// negative ParkAfter.
func TestWorthParking(t *testing.T) {
	for _, tc := range []struct {
		after  time.Duration
		wait   time.Duration
		events int64
		want   bool
	}{
		{time.Second, time.Second, 4, true},
		{time.Second, time.Second - 1, 4, false},
		{time.Second, time.Second, 199, true},
		{time.Second, time.Second, 200, false},
		{time.Second, 2 * time.Second, 200, true},
		{time.Second, 249 * time.Second, 25000, false},
		{time.Second, 250 * time.Second, 25000, true},
		{-1, time.Hour, 4, false},
	} {
		s := &Service{parkAfter: tc.after}
		if got := s.worthParking(tc.wait, tc.events); got != tc.want {
			t.Errorf("ParkAfter %v, wait %v, %d events: %v, want %v", tc.after, tc.wait, tc.events, got, tc.want)
		}
	}
}
