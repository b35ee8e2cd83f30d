package motoserver

import (
	"net/http"
	"testing"
)

// TestRun: the server answers at its URL until Stop, and not after.
func TestRun(t *testing.T) {
	s, err := Run()
	if err != nil {
		Unavailable(t, err)
	}
	resp, err := http.Get(s.URL + "/moto-api/data.json")
	if err != nil {
		s.Stop()
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /moto-api/data.json: %s", resp.Status)
	}
	s.Stop()
	if resp, err := http.Get(s.URL + "/moto-api/data.json"); err == nil {
		_ = resp.Body.Close()
		t.Errorf("the server still answers after Stop: %s", resp.Status)
	}
}
