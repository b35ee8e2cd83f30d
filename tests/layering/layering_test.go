// Package layering checks the import rules of the project's layering
// (../shared/style.md, section 2) on the real import graph, as `go list`
// reports it: lower layers never import higher ones, and only the
// composition root (internal/app) imports the store adapters and the task
// integrations. Test files are not checked (tests may wire anything).
package layering

import (
	"bytes"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/stepwell/stepwell"

// rule says which of the module's packages the packages matching pkg may
// import. Patterns are package paths relative to the module; "x/..."
// matches x and everything below it.
type rule struct {
	pkg   string
	allow []string
}

// Shared allowances.
var (
	// leaves are data packages with no imports of ours (L0).
	leaves = []string{"arn", "history", "fault", "value", "internal/clock", "internal/uuid", "internal/digest"}
	// contract is the store contract, without its adapters.
	contract = []string{"store"}
	// interp is the interpreter and what it is built of (L1, L2).
	interp = []string{"asl", "jsonpath", "intrinsic", "jsonata", "engine"}
)

func join(lists ...[]string) []string { return slices.Concat(lists...) }

// rules, most specific first: the first matching rule applies. A package
// that matches none is reported, so that a new package gets its place in
// the layering.
var rules = []rule{
	{"cmd/...", []string{"internal/cli"}},
	{"tests/...", []string{"..."}},
	// L4: the composition root, the only importer of the adapters.
	{"internal/app", []string{"..."}},
	// The CLI goes through the composition root for adapters.
	{"internal/cli", join(leaves, contract, interp, []string{"internal/app", "api", "executions"})},
	// L3: the AWS protocol over the executions service.
	{"api/...", join(leaves, contract, interp, []string{"api/...", "executions"})},
	{"console/...", []string{"console/..."}},
	// Observers of the executions service (its Observer port): metrics,
	// execution logs and status change events.
	{"metrics", join(leaves, contract, []string{"executions"})},
	{"logs", join(leaves, contract, []string{"executions"})},
	{"statusevents", join(leaves, contract, []string{"executions"})},
	// The executions service, between the engine and the API.
	{"executions", join(leaves, contract, interp)},
	// L2: the engine and the integrations it calls.
	{"engine/...", join(leaves, contract, []string{"asl", "jsonpath", "intrinsic", "jsonata", "engine/..."})},
	{"integrations", join(leaves, contract, []string{"engine"})},
	// An integration may name the router's Route (its seam), never
	// another integration.
	{"integrations/...", join(leaves, contract, []string{"engine", "integrations"})},
	// L1: the store adapters and their conformance suite, the definition
	// language.
	{"store", []string{"history", "arn"}},
	// store/internal/... holds what the adapters share (the group-commit
	// writer); it imports nothing of ours but the leaves.
	{"store/internal/...", leaves},
	{"store/...", join(leaves, contract, []string{"store/internal/..."})},
	{"asl/...", join(leaves, []string{"jsonpath", "intrinsic", "jsonata", "asl/..."})},
	// JSONata: the seam (jsonata) over its forked evaluator, which
	// imports nothing of ours.
	{"jsonata/internal/...", []string{"jsonata/internal/..."}},
	{"jsonata", join(leaves, []string{"jsonata/internal/..."})},
	{"intrinsic", []string{"jsonpath", "fault", "value", "internal/uuid", "internal/digest"}},
	{"jsonpath", []string{"value"}},
	// L0.
	{"arn", nil},
	{"history", nil},
	{"fault", nil},
	{"value", nil},
	{"internal/clock", nil},
	{"internal/uuid", nil},
	{"internal/digest", nil},
	// A test helper (starts moto_server): imports nothing of ours.
	{"internal/motoserver", nil},
}

// match reports whether a module-relative package path matches pattern.
func match(pattern, pkg string) bool {
	if pattern == "..." {
		return true
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == base || strings.HasPrefix(pkg, base+"/")
	}
	return pkg == pattern
}

// ruleFor returns the first rule matching pkg.
func ruleFor(pkg string) (rule, bool) {
	for _, r := range rules {
		if match(r.pkg, pkg) {
			return r, true
		}
	}
	return rule{}, false
}

// check returns the violations of the rules in an import graph: for each
// package of the module (relative path), the module's packages it imports.
func check(graph map[string][]string) []string {
	var bad []string
	for _, pkg := range slices.Sorted(maps.Keys(graph)) {
		r, ok := ruleFor(pkg)
		if !ok {
			bad = append(bad, pkg+": no layering rule (add one to tests/layering)")
			continue
		}
		for _, imp := range graph[pkg] {
			if imp == pkg {
				continue
			}
			if !slices.ContainsFunc(r.allow, func(p string) bool { return match(p, imp) }) {
				bad = append(bad, pkg+" imports "+imp)
			}
		}
	}
	return bad
}

// goList runs go list with args in the module and returns its output lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %v: %v\n%s", args, err, stderr.String())
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// graph returns the module's import graph (non-test imports).
func graph(t *testing.T) map[string][]string {
	g := map[string][]string{}
	for _, line := range goList(t, "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", "./...") {
		fields := strings.Fields(line)
		pkg, ok := strings.CutPrefix(fields[0], module+"/")
		if !ok {
			continue
		}
		g[pkg] = []string{}
		for _, imp := range fields[1:] {
			if rel, ok := strings.CutPrefix(imp, module+"/"); ok {
				g[pkg] = append(g[pkg], rel)
			}
		}
	}
	return g
}

func TestLayering(t *testing.T) {
	g := graph(t)
	if len(g) < 10 {
		t.Fatalf("go list found only %d packages: %v", len(g), g)
	}
	for _, v := range check(g) {
		t.Error(v)
	}
}

// TestAPI_NoIntegrations: nothing the API is built of, directly or not,
// is an integration or a store adapter.
func TestAPI_NoIntegrations(t *testing.T) {
	deps := goList(t, "-deps", "./api", "./executions")
	if !slices.Contains(deps, module+"/executions") {
		t.Fatalf("go list -deps ./api ./executions: %v", deps)
	}
	for _, d := range deps {
		rel, ok := strings.CutPrefix(d, module+"/")
		if ok && (match("integrations/...", rel) || slices.Contains([]string{"store/sqlite", "store/postgres", "store/memory"}, rel)) {
			t.Errorf("the API depends on %s", rel)
		}
	}
}

// TestCheck: the checker reports each forbidden edge, and only those.
func TestCheck(t *testing.T) {
	allowed := map[string][]string{
		"api":                    {"executions", "engine", "store", "asl", "arn", "history", "fault", "value"},
		"api/internal/errs":      {"arn"},
		"executions":             {"engine", "store", "asl", "history", "arn", "fault"},
		"engine":                 {"asl", "store", "history", "jsonpath", "internal/clock", "value"},
		"integrations/tasktoken": {"engine", "store", "arn", "fault", "internal/clock"},
		"store/sqlite":           {"store", "history"},
		"store":                  {"history", "arn"},
		"internal/app":           {"api", "executions", "store/sqlite", "store/postgres", "integrations/mock"},
		"internal/cli":           {"internal/app", "asl"},
		"cmd/stepwell":           {"internal/cli"},
		"asl":                    {"jsonpath", "intrinsic", "fault"},
		"tests/e2e":              {"internal/cli"},
		"history":                {},
		"internal/clock":         {},
	}
	if v := check(allowed); len(v) != 0 {
		t.Fatalf("allowed graph reported: %v", v)
	}
	forbidden := []struct{ from, to string }{
		{"api", "integrations/tasktoken"},
		{"api", "store/sqlite"},
		{"api", "store/memory"},
		{"api", "internal/app"},
		{"executions", "integrations/mock"},
		{"executions", "api"},
		{"executions", "store/postgres"},
		{"engine", "api"},
		{"engine", "executions"},
		{"engine", "store/sqlite"},
		{"engine", "integrations"},
		{"store/sqlite", "engine"},
		{"store/sqlite", "asl"},
		{"store/sqlite", "api"},
		{"store/postgres", "store/sqlite"},
		{"store", "engine"},
		{"integrations/tasktoken", "executions"},
		{"integrations/tasktoken", "api"},
		{"integrations/nested", "integrations/tasktoken"},
		{"internal/cli", "store/sqlite"},
		{"internal/cli", "integrations/lambda"},
		{"cmd/stepwell", "internal/app"},
		{"asl", "engine"},
		{"jsonpath", "asl"},
		{"history", "store"},
		{"arn", "history"},
		{"internal/clock", "engine"},
	}
	for _, f := range forbidden {
		g := map[string][]string{f.from: {f.to}}
		want := f.from + " imports " + f.to
		if v := check(g); len(v) != 1 || v[0] != want {
			t.Errorf("edge %s -> %s: reported %v, want [%s]", f.from, f.to, v, want)
		}
	}
	if v := check(map[string][]string{"newpkg": nil}); len(v) != 1 || !strings.Contains(v[0], "no layering rule") {
		t.Errorf("a package without a rule: reported %v", v)
	}
}
