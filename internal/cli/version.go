package cli

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is the release version, set at build time with
// -ldflags "-X github.com/stepwell/stepwell/internal/cli.Version=v1.2.3".
var Version = ""

// VersionCommand prints the version (stepwell version).
type VersionCommand struct {
	m *Main
}

// Run prints "stepwell VERSION (GOVERSION OS/ARCH)".
func (c *VersionCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("version", "version", c.m.Stdout)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := exactArgs("version", pos); err != nil {
		return err
	}
	fmt.Fprintf(c.m.Stdout, "stepwell %s (%s %s/%s)\n", versionString(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

// versionString is Version, else the module version or VCS revision the
// binary was built from, else "devel".
func versionString() string {
	if Version != "" {
		return Version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return "devel-" + rev
}
