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
