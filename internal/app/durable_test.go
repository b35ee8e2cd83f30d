package app

import (
	"path/filepath"
	"testing"
)

func TestStoreKind(t *testing.T) {
	tests := []struct{ in, kind, target string }{
		{"", "embedded", ""},
		{"memory", "memory", ""},
		{"sqlite:///var/lib/stepwell/s.db", "embedded", "/var/lib/stepwell/s.db"},
		{"sqlite://rel/s.db", "embedded", "rel/s.db"},
		{"sqlite://", "", ""},
		{"./s.db", "embedded", "./s.db"},
		{"s.sqlite", "embedded", "s.sqlite"},
		{"data/store", "embedded", "data/store"},
		{"postgres://u:p@h/db", "postgres", "postgres://u:p@h/db"},
		{"postgresql://h/db?sslmode=disable", "postgres", "postgresql://h/db?sslmode=disable"},
		{"redis://h", "", ""},
		{"redis", "", ""},
		{"Memory", "", ""},
	}
	for _, tt := range tests {
		kind, target := storeKind(tt.in)
		if kind != tt.kind || target != tt.target {
			t.Errorf("storeKind(%q) = %q, %q; want %q, %q", tt.in, kind, target, tt.kind, tt.target)
		}
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://u:secret@h:5432/db?sslmode=require", "postgres://u:***@h:5432/db?sslmode=require"},
		{"postgres://u@h/db", "postgres://u@h/db"},
		{"postgres://h/db", "postgres://h/db"},
		{"postgresql://u:p:q@h/db", "postgresql://u:***@h/db"},
		{"postgres://u@h/db?password=secret&sslmode=disable", "postgres://u@h/db?password=***&sslmode=disable"},
		{"postgres://h/db?sslmode=disable&PASSWORD=s&sslpassword=k", "postgres://h/db?sslmode=disable&PASSWORD=***&sslpassword=***"},
		{"postgres://u:p%40ss@h/db", "postgres://u:***@h/db"},
		{"postgres://u:secret@[bad/db?password=x", "postgres://u:***@[bad/db?password=***"},
		{"host=db user=u password=secret dbname=x", "host=db user=u password=*** dbname=x"},
		{"host=db password='a b\\' c' sslmode=disable", "host=db password=*** sslmode=disable"},
		{"http://127.0.0.1:3001", "http://127.0.0.1:3001"},
		{"memory", "memory"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDefaultDataDir(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", "/xdg")
	if got := DefaultDataDir(); got != filepath.Join("/xdg", "stepwell") {
		t.Errorf("with XDG_DATA_HOME: %q", got)
	}
	t.Setenv("XDG_DATA_HOME", "relative") // ignored, as the XDG spec says
	t.Setenv("HOME", "/home/u")
	if got := DefaultDataDir(); got != filepath.Join("/home/u", ".local", "share", "stepwell") {
		t.Errorf("with HOME: %q", got)
	}
	if got := DataDirFrom(func(string) (string, bool) { return "", false }); got != "stepwell-data" {
		t.Errorf("with neither: %q", got)
	}
}
