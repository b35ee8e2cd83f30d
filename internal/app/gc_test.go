package app

import "testing"

func TestGCPercent(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name           string
		live, headroom uint64
		want           int
	}{
		{"no reading yet", 0, 64 * mib, 100},
		{"live heap as large as the headroom", 64 * mib, 64 * mib, 100},
		{"live heap larger", 600 * mib, 64 * mib, 100},
		{"a third of the headroom", 20 * mib, 64 * mib, 350}, // 320 rounded up to a step
		{"half the headroom", 32 * mib, 64 * mib, 200},       // exactly a step
		{"just under the headroom", 63 * mib, 64 * mib, 150}, // 101 rounded up
		{"tiny live heap", 1 * mib, 64 * mib, 1000},          // at most 1,000
		{"the least budget", 2 * mib, 4 * mib, 200},          // 64 MiB budget: 4 MiB headroom
		{"one byte live", 1, 64 * mib, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := gcPercent(tt.live, tt.headroom); got != tt.want {
				t.Errorf("gcPercent(%d, %d) = %d, want %d", tt.live, tt.headroom, got, tt.want)
			}
		})
	}
}

func TestMemoryGuard_Tune(t *testing.T) {
	const mib = 1 << 20
	var set []int
	g := &memoryGuard{headroom: 64 * mib, gc: 100, setGC: func(p int) int { set = append(set, p); return 0 }}
	for _, live := range []uint64{20 * mib, 21 * mib, 40 * mib, 500 * mib, 500 * mib} {
		g.tune(live)
	}
	// 350 for 20 and 21 MiB (set once), 200 for 40 MiB, 100 for 500 MiB
	// (set once).
	want := []int{350, 200, 100}
	if len(set) != len(want) {
		t.Fatalf("set %v, want %v", set, want)
	}
	for i := range want {
		if set[i] != want[i] {
			t.Fatalf("set %v, want %v", set, want)
		}
	}

	// With GOGC in the environment the user chose: no tuning.
	t.Setenv("GOGC", "100")
	if g := (Limits{MemoryBudget: 1 << 30}).memoryGuard(); g.headroom != 0 {
		t.Errorf("GOGC set: headroom %d, want 0", g.headroom)
	}
}

func TestMemoryGuard_Headroom(t *testing.T) {
	if v, ok := lookupGOGC(); ok {
		t.Skipf("GOGC=%s in the environment: the guard does not tune the collector", v)
	}
	for _, tt := range []struct {
		budget int64
		want   uint64
	}{
		{64 << 20, 4 << 20},   // the least budget: a sixteenth
		{512 << 20, 32 << 20}, // a sixteenth
		{16 << 30, maxHeadroom},
	} {
		if g := (Limits{MemoryBudget: tt.budget}).memoryGuard(); g.headroom != tt.want {
			t.Errorf("budget %d: headroom %d, want %d", tt.budget, g.headroom, tt.want)
		}
	}
}
