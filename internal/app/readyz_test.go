package app

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestReadyz: GET /readyz answers 200 while the server takes new work and
// 503 with the reason while it shuts down, has lost its lease, or is over
// half its memory budget.
func TestReadyz(t *testing.T) {
	tests := []struct {
		name     string
		set      func(p *Parts)
		code     int
		contains string
	}{
		{"ready", func(*Parts) {}, 200, "ok"},
		{"shutting down", func(p *Parts) { p.fence.shutdown() }, 503, "shutting down"},
		{"over the memory budget", func(p *Parts) { p.guard.over.Store(true) }, 503, "memory budget"},
		{"lease lost", func(p *Parts) { p.node = &node{lease: time.Second, lost: true} }, 503, "lease lost"},
		{"lease held", func(p *Parts) { p.node = &node{lease: time.Hour, renewed: time.Now()} }, 200, "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Parts{fence: &fencedStore{}, guard: &memoryGuard{}}
			tt.set(p)
			s := &Server{parts: p}
			rec := httptest.NewRecorder()
			s.readyz(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if rec.Code != tt.code || !strings.Contains(rec.Body.String(), tt.contains) {
				t.Errorf("readyz %d %q, want %d with %q", rec.Code, rec.Body.String(), tt.code, tt.contains)
			}
		})
	}
}
