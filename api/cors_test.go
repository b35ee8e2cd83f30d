package api_test

import (
	"slices"
	"testing"

	"github.com/stepwell/stepwell/api"
)

func TestParseCORSOrigins(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
		bad  bool
	}{
		{in: "", want: nil},
		{in: "https://A.example.com, http://localhost:5173/", want: []string{"https://a.example.com", "http://localhost:5173"}},
		{in: "*", want: []string{"*"}},
		{in: "example.com", bad: true},
		{in: "https://example.com/app", bad: true},
		{in: "ftp://example.com", bad: true},
		{in: "https://u:p@example.com", bad: true},
	} {
		got, err := api.ParseCORSOrigins(c.in)
		if (err != nil) != c.bad || !slices.Equal(got, c.want) {
			t.Errorf("ParseCORSOrigins(%q) = %q, %v", c.in, got, err)
		}
	}
}

// FuzzParseCORSOrigins: what parses parses again to itself.
func FuzzParseCORSOrigins(f *testing.F) {
	for _, s := range []string{"https://a.example.com,http://localhost:5173/", "*", "https://[::1]:8443", "https://u@h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, list string) {
		got, err := api.ParseCORSOrigins(list)
		if err != nil {
			return
		}
		for _, o := range got {
			again, err := api.ParseCORSOrigins(o)
			if err != nil || len(again) != 1 || again[0] != o {
				t.Errorf("origin %q of %q parses again as %q, %v", o, list, again, err)
			}
		}
	})
}
